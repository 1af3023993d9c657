using System.Text;
using MiniRedis.Protocol;

namespace MiniRedis.Config;

/// <summary>Redis's quoting (sdscatrepr) for configuration lines.</summary>
internal static class ConfigArgs
{
    /// <summary>Quotes a value so that <see cref="ArgSplitter.SplitToList"/> gives it back unchanged (Redis's sdscatrepr).</summary>
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
