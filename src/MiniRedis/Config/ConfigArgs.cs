using System.Text;
using MiniRedis.Protocol;

namespace MiniRedis.Config;

/// <summary>Redis's argument splitting (sdssplitargs) and quoting (sdscatrepr) for configuration lines.</summary>
internal static class ConfigArgs
{
    /// <summary>
    /// Splits a config line into arguments with Redis's sdssplitargs rules (the same splitter inline
    /// commands use). Returns null for unbalanced quotes.
    /// </summary>
    public static List<byte[]>? Split(ReadOnlySpan<byte> line)
    {
        // The C code sees a NUL byte as the end of the line.
        int nul = line.IndexOf((byte)0);
        if (nul >= 0)
            line = line[..nul];
        var batch = new CommandBatch();
        batch.BeginCommand();
        if (!ArgSplitter.Split(line, batch))
            return null;
        var parsed = batch[0];
        var args = new List<byte[]>(parsed.Count);
        for (int i = 0; i < parsed.Count; i++)
            args.Add(parsed[i].ToArray());
        return args;
    }

    /// <summary>Quotes a value so that <see cref="Split"/> gives it back unchanged (Redis's sdscatrepr).</summary>
    public static string Quote(string value)
    {
        var sb = new StringBuilder("\"");
        foreach (byte b in Encoding.UTF8.GetBytes(value))
        {
            switch (b)
            {
                case (byte)'\\': sb.Append("\\\\"); break;
                case (byte)'"': sb.Append("\\\""); break;
                case (byte)'\n': sb.Append("\\n"); break;
                case (byte)'\r': sb.Append("\\r"); break;
                case (byte)'\t': sb.Append("\\t"); break;
                case 7: sb.Append("\\a"); break;
                case 8: sb.Append("\\b"); break;
                default:
                    if (b is >= 0x20 and < 0x7f)
                        sb.Append((char)b);
                    else
                        sb.Append($"\\x{b:x2}");
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
