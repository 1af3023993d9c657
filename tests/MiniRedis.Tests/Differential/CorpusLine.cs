using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Differential;

/// <summary>How two replies to the same command must agree.</summary>
public enum Comparison
{
    /// <summary>Byte for byte.</summary>
    Exact,
    /// <summary>Aggregates compared as multisets at every level (KEYS, a one-call SCAN).</summary>
    Sorted,
    /// <summary>Only the reply types and aggregate sizes (TIME, CLIENT ID, RANDOMKEY).</summary>
    Shape,
}

/// <summary>One command of a corpus file: an optional "@sorted " / "@type " prefix, then redis-cli syntax.</summary>
public sealed record CorpusLine(int Number, string Text, Comparison Comparison, IReadOnlyList<byte[]> Args)
{
    public static IEnumerable<CorpusLine> Read(string path)
    {
        int number = 0;
        foreach (var raw in File.ReadLines(path))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var comparison = Comparison.Exact;
            if (line.StartsWith("@sorted ", StringComparison.Ordinal)) comparison = Comparison.Sorted;
            else if (line.StartsWith("@type ", StringComparison.Ordinal)) comparison = Comparison.Shape;
            else if (line.StartsWith('@')) throw new FormatException($"{path}:{number}: unknown prefix in '{line}'");
            var command = comparison == Comparison.Exact ? line : line[(line.IndexOf(' ') + 1)..];
            yield return new CorpusLine(number, line, comparison, CommandLine.Split(command));
        }
    }

    /// <summary>The form of a reply that must be equal on both servers under this line's comparison.</summary>
    public string Canonical(RespNode reply) => Comparison switch
    {
        Comparison.Exact => reply.ToString(),
        Comparison.Sorted => SortedForm(reply),
        _ => ShapeForm(reply),
    };

    internal static string SortedForm(RespNode node)
    {
        if (!node.IsAggregate) return node.ToString();
        var elements = node.Children.Select(SortedForm).Order(StringComparer.Ordinal);
        return $"{(char)node.Type}{node.Children.Count}[{string.Join(", ", elements)}]";
    }

    internal static string ShapeForm(RespNode node)
    {
        var type = (char)node.Type;
        // A null and a value of the same type byte differ in shape.
        if (type is '$' or '*' && node.Raw.AsSpan(1).StartsWith("-1"u8)) return type + "null";
        if (!node.IsAggregate) return type.ToString();
        return $"{type}{node.Children.Count}[{string.Join(", ", node.Children.Select(ShapeForm))}]";
    }
}
