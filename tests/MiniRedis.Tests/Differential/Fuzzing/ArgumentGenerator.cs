using System.Text;

namespace MiniRedis.Tests.Differential.Fuzzing;

/// <summary>
/// Builds argument vectors for a command from its COMMAND DOCS tree: mostly well-formed (each
/// argument from the pool that fits its type, options in their places, numkeys matching the keys
/// that follow), then often mutated (an argument dropped, repeated, swapped or replaced by an edge
/// value) so the parsers' error paths are reached too. All randomness comes from one seeded Random.
/// </summary>
public sealed class ArgumentGenerator(Random random, IReadOnlyList<CommandSpec> commands)
{
    static readonly string[] Integers =
    [
        "0", "-1", "1", "2", "3", "5", "10", "-2", "-100", "100",
        "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967296",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "18446744073709551616", "99999999999999999999999",
    ];

    static readonly string[] Floats =
    [
        "0", "-0", "1.5", "-2.5", "0.1", "1e10", "-1e-10", "1e308", "1e400", "-1e400", "4.9e-324",
        "inf", "-inf", "+inf", "infinity", "nan", "-nan", "(1", "(-inf", "(2.5", "[1", "1.0", ".5", "5.", "1e", "0x10",
        "3.14159265358979323846264338327950288", "123456789012345678901234567890",
    ];

    static readonly string[] Oddities =
    [
        "", " ", "\0", "\0\xff", "1\0", "\xff\xfe", "\r\n", "abc", " 1", "1 ", "+1", "01", "-", "+", "(", "[", "(a", "[a", "[z", "-0", "\\", "\x80", "\u00e9", "1,2", "1.5.5", "--1", "0b1", "true",
    ];

    /// <summary>Glob and SORT patterns that match some of the prepared keys and fields.</summary>
    static readonly string[] Patterns = ["*", "?", "[a-z]*", "h*", "*->f1", "hash->f1", "#", "str*", "nosort", "*t*", "b[i-j]g*", "[", "\\*"];

    static readonly string[] Keywords =
    [
        "WITHSCORES", "LIMIT", "COUNT", "MATCH", "TYPE", "NX", "XX", "GT", "LT", "CH", "INCR", "REV", "BYSCORE", "BYLEX",
        "LEFT", "RIGHT", "BEFORE", "AFTER", "MIN", "MAX", "WEIGHTS", "AGGREGATE", "SUM", "EX", "PX", "KEEPTTL", "GET",
        "RANK", "MAXLEN", "ALPHA", "ASC", "DESC", "BY", "STORE", "DB", "REPLACE", "WITHVALUES", "NOSORT", "FIELDS", "ASYNC", "SYNC",
    ];

    /// <summary>Relative expiries: small positive ones would race the clock between the two servers.</summary>
    static readonly string[] Durations =
    [
        "0", "-1", "-100", "100000", "2147483647", "2147483648", "4611686018427387", "9223372036854775807",
        "-9223372036854775808", "9223372036854775808", "1.5", "", "abc", "nan", "inf",
    ];

    /// <summary>Absolute expiries: in the past (the key goes at once) or far away.</summary>
    static readonly string[] Timestamps =
    [
        "0", "1", "-1", "1000", "4102444800", "4102444800000", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "abc",
    ];

    /// <summary>Blocking timeouts: tiny, or refused; never 0 or long, which would stall the batch.</summary>
    static readonly string[] Timeouts = ["0.01", "0.001", "-1", "-0.5", "abc", "", "nan", "1e-3", "-inf"];

    static readonly string LongString = new('x', 1000);
    static readonly string LongerString = string.Concat(Enumerable.Range(0, 3000).Select(i => (char)('a' + i % 26)));

    readonly double[] _cumulativeWeights = Cumulative(commands);

    static double[] Cumulative(IReadOnlyList<CommandSpec> commands)
    {
        var sums = new double[commands.Count];
        double total = 0;
        for (int i = 0; i < commands.Count; i++) sums[i] = total += FuzzPolicy.Weight(commands[i].Name);
        return sums;
    }

    public CommandSpec PickCommand()
    {
        double x = random.NextDouble() * _cumulativeWeights[^1];
        int index = Array.BinarySearch(_cumulativeWeights, x);
        return commands[index < 0 ? ~index : index];
    }

    public List<byte[]> Build(CommandSpec command)
    {
        var words = new List<string>();
        foreach (var word in command.Words) words.Add(random.Next(8) == 0 ? word.ToLowerInvariant() : word.ToUpperInvariant());
        if (command.Name is "command|getkeys" or "command|getkeysandflags")
        {
            // The argument is a whole command: one of ours, built the same way.
            var inner = commands[random.Next(commands.Count)];
            words.AddRange(random.Next(4) == 0 ? Build(inner).Select(Latin1) : Build(inner).Select(Latin1).Take(1 + random.Next(4)));
        }
        else
        {
            AddAll(command, command.Arguments, words);
            // CONFIG stays on its safe directive names (FuzzPolicy.ConfigParameters).
            if (random.Next(10) < 3 && command.Words[0] != "config") Mutate(words, command.Words.Count);
        }
        if (FuzzPolicy.IsBlocking(command.Name) && words.Count > command.Words.Count)
        {
            // Whatever the mutations did, a timeout of 0 or a long one would stall the batch.
            int index = Math.Max(command.Words.Count, FuzzPolicy.TimeoutIndex(command.Name, words.Count));
            if (index < words.Count) words[index] = Pick(Timeouts);
        }
        return [.. words.Select(Encoding.Latin1.GetBytes)];
    }

    static string Latin1(byte[] bytes) => Encoding.Latin1.GetString(bytes);

    void AddAll(CommandSpec command, IReadOnlyList<ArgSpec> args, List<string> words)
    {
        for (int i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg.Optional && random.Next(2) == 0) continue;
            bool countsNext = arg.Name is "numkeys" or "count" && arg.Type == "integer" && i + 1 < args.Count && args[i + 1].Multiple;
            if (countsNext && random.Next(4) != 0)
            {
                // numkeys then its keys: usually consistent, so the command gets past its parser.
                var rest = new List<string>();
                int n = Repetitions(args[i + 1], rest, command);
                if (arg.Token is not null) words.Add(Token(arg.Token));
                words.Add(n.ToString());
                words.AddRange(rest);
                i++;
                continue;
            }
            if (arg.Multiple) Repetitions(arg, words, command);
            else AddOne(command, arg, words, withToken: true);
        }
    }

    int Repetitions(ArgSpec arg, List<string> words, CommandSpec command)
    {
        int n = random.Next(8) == 0 ? 0 : 1 + random.Next(random.Next(6) == 0 ? 8 : 3);
        for (int r = 0; r < n; r++) AddOne(command, arg, words, withToken: r == 0 || arg.MultipleToken);
        return n;
    }

    void AddOne(CommandSpec command, ArgSpec arg, List<string> words, bool withToken)
    {
        if (withToken && arg.Token is not null && arg.Type != "pure-token") words.Add(Token(arg.Token));
        switch (arg.Type)
        {
            case "pure-token":
                words.Add(Token(arg.Token!));
                break;
            case "oneof":
                AddOne(command, arg.Children[random.Next(arg.Children.Count)] with { Optional = false }, words, withToken: true);
                break;
            case "block":
                AddAll(command, arg.Children, words);
                break;
            default:
                words.Add(Value(command, arg));
                break;
        }
    }

    string Token(string token) => random.Next(6) == 0 ? token.ToLowerInvariant() : token;

    string Value(CommandSpec command, ArgSpec arg)
    {
        if (command.Name is "config|set" or "config|get" && arg.Name == "parameter") return Pick(FuzzPolicy.ConfigParameters);
        if (random.Next(12) == 0) return AnyValue();
        if (command.Name is "command|info" or "command|docs") return commands[random.Next(commands.Count)].Words[0];
        if (arg.Name == "timeout" && FuzzPolicy.IsBlocking(command.Name)) return Pick(Timeouts);
        if (arg.Name is "seconds" or "milliseconds" && command.Name != "debug") return Pick(Durations);
        return arg.Type switch
        {
            "key" => Pick(FuzzDataset.Keys),
            "integer" => Pick(Integers),
            "double" => random.Next(3) == 0 ? Pick(Integers) : Pick(Floats),
            "unix-time" => Pick(Timestamps),
            "pattern" => random.Next(3) == 0 ? AnyValue() : Pick(Patterns),
            _ => random.Next(3) == 0 ? AnyValue() : Pick(FuzzDataset.Members),
        };
    }

    string AnyValue() => random.Next(12) switch
    {
        0 or 1 => Pick(Integers),
        2 or 3 => Pick(Floats),
        4 => Pick(Oddities),
        5 => Pick(Patterns),
        6 => Pick(Keywords),
        7 => Pick(FuzzDataset.Keys),
        8 => random.Next(4) == 0 ? LongerString : LongString,
        9 => Binary(),
        _ => Pick(FuzzDataset.Members),
    };

    string Binary()
    {
        var chars = new char[1 + random.Next(20)];
        for (int i = 0; i < chars.Length; i++) chars[i] = (char)random.Next(256);
        return new string(chars);
    }

    void Mutate(List<string> words, int fixedWords)
    {
        int first = fixedWords;
        switch (random.Next(6))
        {
            case 0 when words.Count > first:
                words.RemoveAt(first + random.Next(words.Count - first));
                break;
            case 1 when words.Count > first:
                words.Insert(first + random.Next(words.Count - first + 1), words[first + random.Next(words.Count - first)]);
                break;
            case 2 when words.Count > first + 1:
            {
                int a = first + random.Next(words.Count - first), b = first + random.Next(words.Count - first);
                (words[a], words[b]) = (words[b], words[a]);
                break;
            }
            case 3 when words.Count > first:
                words[first + random.Next(words.Count - first)] = AnyValue();
                break;
            case 4:
                words.Insert(first + random.Next(words.Count - first + 1), random.Next(2) == 0 ? Pick(Keywords) : AnyValue());
                break;
            default:
                if (words.Count > first) words.RemoveRange(first + random.Next(words.Count - first), 1);
                break;
        }
    }

    T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    T Pick<T>(T[] items) => items[random.Next(items.Length)];
}
