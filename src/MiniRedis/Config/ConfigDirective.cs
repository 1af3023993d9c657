namespace MiniRedis.Config;

/// <summary>
/// One configuration directive: its name, how its value is parsed, checked, stored into a
/// <see cref="ServerConfig"/> and formatted back for CONFIG GET. Build them with the typed factories
/// (<see cref="Bool"/>, <see cref="Integer"/>, <see cref="Memory"/>, <see cref="Enum"/>, <see cref="String"/>,
/// <see cref="Special"/>) so that each directive is one line of the table in ServerConfig.Directives.cs.
/// </summary>
public sealed class ConfigDirective
{
    /// <summary>Stores parsed arguments into the config; returns null or Redis's error text.</summary>
    internal delegate string? Setter(ServerConfig config, IReadOnlyList<string> args);

    private delegate bool NumberReader(string text, out long value);

    private readonly Func<ServerConfig, string> _format;
    private readonly Setter _set;

    private ConfigDirective(string name, ConfigKind kind, ConfigFlags flags, string defaultValue,
        Func<ServerConfig, string> format, Setter set, string? alias = null)
    {
        Name = name;
        Kind = kind;
        Flags = flags;
        DefaultValue = defaultValue;
        _format = format;
        _set = set;
        Alias = alias;
    }

    public string Name { get; }

    /// <summary>A second name accepted everywhere and listed separately by CONFIG GET, as Redis does.</summary>
    public string? Alias { get; }

    public ConfigKind Kind { get; }

    public ConfigFlags Flags { get; }

    /// <summary>The default in CONFIG SET syntax (multi-argument values space-separated).</summary>
    public string DefaultValue { get; }

    public bool IsMutable => !Flags.HasFlag(ConfigFlags.Immutable);

    internal ConfigDirective WithAlias(string alias) => new(Name, Kind, Flags, DefaultValue, _format, _set, alias);

    /// <summary>The value as CONFIG GET reports it.</summary>
    internal string Format(ServerConfig config) => _format(config);

    internal string? Set(ServerConfig config, IReadOnlyList<string> args) => _set(config, args);

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

    internal static ConfigDirective Integer(string name, long min, long max, long defaultValue, Func<ServerConfig, long> get,
        Action<ServerConfig, long> set, ConfigFlags flags = ConfigFlags.None) =>
        Numeric(name, ConfigKind.Integer, min, max, defaultValue, get, set, flags,
            NumberParsing.TryParseStrictLong, "argument couldn't be parsed into an integer");

    /// <summary>A byte count accepting units (1k = 1000, 1kb = 1024, ...); CONFIG GET shows plain bytes.</summary>
    internal static ConfigDirective Memory(string name, long min, long max, long defaultValue, Func<ServerConfig, long> get,
        Action<ServerConfig, long> set, ConfigFlags flags = ConfigFlags.None) =>
        Numeric(name, ConfigKind.Memory, min, max, defaultValue, get, set, flags, ReadMemory, "argument must be a memory value");

    internal static ConfigDirective Enum<T>(string name, T defaultValue, (string Name, T Value)[] choices,
        Func<ServerConfig, T> get, Action<ServerConfig, T> set, ConfigFlags flags = ConfigFlags.None) where T : struct, Enum
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

    /// <summary>A free-form string; CONFIG GET shows an unset (null) value as empty.</summary>
    internal static ConfigDirective String(string name, string defaultValue, Func<ServerConfig, string?> get,
        Action<ServerConfig, string> set, ConfigFlags flags = ConfigFlags.None, Func<string, string?>? validate = null) =>
        new(name, ConfigKind.String, flags, defaultValue, c => get(c) ?? "", (c, args) =>
        {
            string? error = validate?.Invoke(args[0]);
            if (error is null)
                set(c, args[0]);
            return error;
        });

    internal static ConfigDirective Special(string name, string defaultValue, Func<ServerConfig, string> get, Setter set,
        ConfigFlags flags = ConfigFlags.None) =>
        new(name, ConfigKind.Special, flags, defaultValue, get, set);

    private static ConfigDirective Numeric(string name, ConfigKind kind, long min, long max, long defaultValue,
        Func<ServerConfig, long> get, Action<ServerConfig, long> set, ConfigFlags flags, NumberReader read, string parseError) =>
        new(name, kind, flags, defaultValue.ToString(), c => get(c).ToString(), (c, args) =>
        {
            if (!read(args[0], out long value))
                return parseError;
            if (value < min || value > max)
                return $"argument must be between {min} and {max} inclusive";
            set(c, value);
            return null;
        });

    private static bool ReadMemory(string text, out long value)
    {
        bool ok = NumberParsing.TryParseMemory(text, out ulong bytes);
        // Redis stores memory sizes in signed or size_t fields, so sizes past long.MaxValue fail the range check.
        value = unchecked((long)bytes);
        return ok;
    }
}
