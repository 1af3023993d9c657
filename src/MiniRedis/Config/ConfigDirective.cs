using System.Globalization;

namespace MiniRedis.Config;

/// <summary>
/// One configuration directive: its name, how its value is parsed, checked, stored into a
/// <see cref="ServerConfig"/>, formatted back for CONFIG GET and written by CONFIG REWRITE. Build them
/// with the typed factories (<see cref="Bool"/>, <see cref="Integer"/>, <see cref="Memory"/>,
/// <see cref="Enum"/>, <see cref="String"/>, <see cref="Special"/>) so that each directive is one line of
/// the table in ServerConfig.Directives.cs. A directive the engine has no use for is built with the
/// overloads taking a <see cref="NoEffect"/> reason: its value is validated and kept, and the reason is
/// what the README's "accepted, no effect" table shows.
/// </summary>
public sealed class ConfigDirective
{
    /// <summary>Stores parsed arguments into the config; returns null or Redis's error text.</summary>
    internal delegate string? Setter(ServerConfig config, IReadOnlyList<string> args);

    /// <summary>The lines CONFIG REWRITE writes for the current value; empty means "write none, drop old ones".</summary>
    internal delegate IReadOnlyList<RewriteLine> Rewriter(ServerConfig config);

    private delegate bool NumberReader(string text, out long value);

    private readonly Func<ServerConfig, string> _format;
    private readonly Setter _set;
    private Rewriter _rewrite;

    private ConfigDirective(string name, ConfigKind kind, ConfigFlags flags, string defaultValue,
        Func<ServerConfig, string> format, Setter set, Rewriter? rewrite = null)
    {
        Name = name;
        Kind = kind;
        Flags = flags;
        DefaultValue = defaultValue;
        _format = format;
        _set = set;
        _rewrite = rewrite ?? (c => [RewriteLine.Of(this, Format(c))]);
    }

    public string Name { get; }

    /// <summary>A second name accepted everywhere and listed separately by CONFIG GET, as Redis does.</summary>
    public string? Alias { get; private set; }

    public ConfigKind Kind { get; }

    public ConfigFlags Flags { get; }

    /// <summary>The default in CONFIG SET syntax (multi-argument values space-separated).</summary>
    public string DefaultValue { get; }

    /// <summary>Why the value changes nothing in this server, or null when the engine uses it.</summary>
    public string? NoEffect { get; private set; }

    public bool IsMutable => !Flags.HasFlag(ConfigFlags.Immutable);

    internal ConfigDirective WithAlias(string alias)
    {
        var copy = (ConfigDirective)MemberwiseClone();
        copy.Alias = alias;
        return copy;
    }

    /// <summary>The value as CONFIG GET reports it.</summary>
    internal string Format(ServerConfig config) => _format(config);

    internal string? Set(ServerConfig config, IReadOnlyList<string> args) => _set(config, args);

    internal IReadOnlyList<RewriteLine> Rewrite(ServerConfig config) => _rewrite(config);

    /// <summary>Turns a CONFIG SET value into arguments: multi-argument directives split on single spaces.</summary>
    internal IReadOnlyList<string> SplitValue(string value) =>
        !Flags.HasFlag(ConfigFlags.MultiArg) ? [value] : value.Length == 0 ? [] : value.Split(' ');

    internal static ConfigDirective Bool(string name, bool defaultValue, Func<ServerConfig, bool> get,
        Action<ServerConfig, bool> set, ConfigFlags flags = ConfigFlags.None, Func<bool, string?>? validate = null) =>
        new(name, ConfigKind.Bool, flags, defaultValue ? "yes" : "no", c => get(c) ? "yes" : "no", (c, args) =>
        {
            bool? value = args[0].ToLowerInvariant() switch { "yes" => true, "no" => false, _ => null };
            if (value is null)
                return "argument must be 'yes' or 'no'";
            string? error = validate?.Invoke(value.Value);
            if (error is null)
                set(c, value.Value);
            return error;
        });

    internal static ConfigDirective Bool(string name, bool defaultValue, NoEffectReason why, ConfigFlags flags = ConfigFlags.None,
        Func<bool, string?>? validate = null) =>
        Bool(name, defaultValue, c => c.Kept<bool>(name), (c, v) => c.Keep(name, v), flags, validate).Inert(why);

    internal static ConfigDirective Integer(string name, long min, long max, long defaultValue, Func<ServerConfig, long> get,
        Action<ServerConfig, long> set, ConfigFlags flags = ConfigFlags.None, Func<long, string?>? validate = null) =>
        Numeric(name, ConfigKind.Integer, min, max, defaultValue, get, set, flags,
            NumberParsing.TryParseStrictLong, "argument couldn't be parsed into an integer", FormatInteger, validate);

    internal static ConfigDirective Integer(string name, long min, long max, long defaultValue, NoEffectReason why,
        ConfigFlags flags = ConfigFlags.None, Func<long, string?>? validate = null) =>
        Integer(name, min, max, defaultValue, c => c.Kept<long>(name), (c, v) => c.Keep(name, v), flags, validate).Inert(why);

    /// <summary>A byte count accepting units (1k = 1000, 1kb = 1024, ...); CONFIG GET shows plain bytes.</summary>
    internal static ConfigDirective Memory(string name, long min, long max, long defaultValue, Func<ServerConfig, long> get,
        Action<ServerConfig, long> set, ConfigFlags flags = ConfigFlags.None) =>
        Numeric(name, ConfigKind.Memory, min, max, defaultValue, get, set, flags, ReadMemory, "argument must be a memory value",
            FormatMemory);

    internal static ConfigDirective Memory(string name, long min, long max, long defaultValue, NoEffectReason why,
        ConfigFlags flags = ConfigFlags.None) =>
        Memory(name, min, max, defaultValue, c => c.Kept<long>(name), (c, v) => c.Keep(name, v), flags).Inert(why);

    /// <summary>
    /// One of named choices. Several names may share a value (Redis's oom-score-adj "yes" and "relative"):
    /// CONFIG GET shows the first.
    /// </summary>
    internal static ConfigDirective Enum<T>(string name, T defaultValue, (string Name, T Value)[] choices,
        Func<ServerConfig, T> get, Action<ServerConfig, T> set, ConfigFlags flags = ConfigFlags.None) where T : struct
    {
        string NameOf(T value) => Array.Find(choices, choice => EqualityComparer<T>.Default.Equals(choice.Value, value)).Name;
        string error = "argument(s) must be one of the following: " + string.Join(", ", choices.Select(choice => choice.Name));
        return new(name, ConfigKind.Enum, flags, NameOf(defaultValue), c => NameOf(get(c)), (c, args) =>
        {
            int index = Array.FindIndex(choices, choice => choice.Name.Equals(args[0], StringComparison.OrdinalIgnoreCase));
            if (index < 0)
                return error;
            set(c, choices[index].Value);
            return null;
        });
    }

    /// <summary>An enum of distinct names.</summary>
    internal static ConfigDirective Enum(string name, string defaultValue, string[] choices, NoEffectReason why,
        ConfigFlags flags = ConfigFlags.None) =>
        Enum(name, Array.IndexOf(choices, defaultValue), [.. choices.Select((choice, i) => (choice, i))], why, flags);

    internal static ConfigDirective Enum(string name, int defaultValue, (string Name, int Value)[] choices, NoEffectReason why,
        ConfigFlags flags = ConfigFlags.None) =>
        Enum(name, defaultValue, choices, c => c.Kept<int>(name), (c, v) => c.Keep(name, v), flags).Inert(why);

    /// <summary>A free-form string; CONFIG GET shows an unset (null) value as empty, and CONFIG REWRITE leaves it out.</summary>
    internal static ConfigDirective String(string name, string defaultValue, Func<ServerConfig, string?> get,
        Action<ServerConfig, string> set, ConfigFlags flags = ConfigFlags.None, Func<string, string?>? validate = null) =>
        new(name, ConfigKind.String, flags, defaultValue, c => get(c) ?? "", (c, args) =>
        {
            string? error = validate?.Invoke(args[0]);
            if (error is null)
                set(c, args[0]);
            return error;
        }, RewriteString(name, defaultValue, get));

    /// <param name="emptyIsNull">Redis's EMPTY_STRING_IS_NULL: "" unsets the value, so CONFIG REWRITE writes no line.</param>
    internal static ConfigDirective String(string name, string defaultValue, bool emptyIsNull, NoEffectReason why,
        ConfigFlags flags = ConfigFlags.None, Func<string, string?>? validate = null) =>
        String(name, defaultValue, c => c.Kept<string>(name), (c, v) => c.Keep(name, emptyIsNull && v.Length == 0 ? null : v),
            flags, validate).Inert(why);

    /// <param name="rewrite">How CONFIG REWRITE writes it; by default "name value" (or name "" when empty), when not the default.</param>
    internal static ConfigDirective Special(string name, string defaultValue, Func<ServerConfig, string> get, Setter set,
        ConfigFlags flags = ConfigFlags.None, Rewriter? rewrite = null) =>
        new(name, ConfigKind.Special, flags, defaultValue, get, set, rewrite);

    /// <summary>
    /// A value kept as its canonical text: <paramref name="normalize"/> checks the arguments and returns
    /// the CONFIG GET form, or null and the error.
    /// </summary>
    internal static ConfigDirective Special(string name, string defaultValue, Normalizer normalize, NoEffectReason why,
        ConfigFlags flags = ConfigFlags.None, Rewriter? rewrite = null) =>
        Special(name, defaultValue, c => c.Kept<string>(name)!, (c, args) =>
        {
            string? value = normalize(args, out string? error);
            if (value is not null)
                c.Keep(name, value);
            return error;
        }, flags, rewrite).Inert(why);

    /// <summary>Checks a special directive's arguments: the canonical value, or null and why not.</summary>
    internal delegate string? Normalizer(IReadOnlyList<string> args, out string? error);

    /// <summary>Marks a directive whose value the engine stores but does not act on.</summary>
    internal ConfigDirective Inert(NoEffectReason why)
    {
        NoEffect = why.Text;
        return this;
    }

    private static ConfigDirective Numeric(string name, ConfigKind kind, long min, long max, long defaultValue,
        Func<ServerConfig, long> get, Action<ServerConfig, long> set, ConfigFlags flags, NumberReader read, string parseError,
        Func<long, string> rewriteValue, Func<long, string?>? validate = null)
    {
        return new(name, kind, flags, FormatInteger(defaultValue), c => FormatInteger(get(c)), (c, args) =>
        {
            if (!read(args[0], out long value))
                return parseError;
            if (value < min || value > max)
                return $"argument must be between {min} and {max} inclusive";
            string? error = validate?.Invoke(value);
            if (error is null)
                set(c, value);
            return error;
        }, c => [new RewriteLine($"{name} {rewriteValue(get(c))}", get(c) != defaultValue)]);
    }

    private static Rewriter RewriteString(string name, string defaultValue, Func<ServerConfig, string?> get) => c =>
        get(c) is { } value ? [new RewriteLine($"{name} {ConfigArgs.Quote(value)}", value != defaultValue)] : [];

    private static string FormatInteger(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Redis's rewriteConfigFormatMemory: the largest of gb, mb, kb that divides the value.</summary>
    internal static string FormatMemory(long bytes)
    {
        foreach ((long unit, string suffix) in (ReadOnlySpan<(long, string)>)[(1L << 30, "gb"), (1L << 20, "mb"), (1L << 10, "kb")])
        {
            if (bytes != 0 && bytes % unit == 0)
                return FormatInteger(bytes / unit) + suffix;
        }
        return FormatInteger(bytes);
    }

    private static bool ReadMemory(string text, out long value)
    {
        bool ok = NumberParsing.TryParseMemory(text, out ulong bytes);
        // Redis stores memory sizes in signed or size_t fields, so sizes past long.MaxValue fail the range check.
        value = unchecked((long)bytes);
        return ok;
    }
}

/// <summary>Why a directive is accepted but changes nothing here; shown in the README's table.</summary>
internal readonly record struct NoEffectReason(string Text);

/// <summary>One line CONFIG REWRITE writes; <see cref="Force"/> lines are appended even where the file had none.</summary>
internal readonly record struct RewriteLine(string Text, bool Force)
{
    /// <summary>The default rewrite of a special directive: "name value", forced when the value is not the default.</summary>
    public static RewriteLine Of(ConfigDirective directive, string value) =>
        new($"{directive.Name} {(value.Length == 0 ? "\"\"" : value)}", value != directive.DefaultValue);
}
