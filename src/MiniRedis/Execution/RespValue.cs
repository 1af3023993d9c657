using System.Text;
using MiniRedis.Protocol;

namespace MiniRedis.Execution.Resp;

/// <summary>
/// A parsed RESP3 value tree. Used for the command metadata captured from real Redis
/// (COMMAND INFO / COMMAND DOCS), which is written back to clients in RESP2 or RESP3.
/// </summary>
public sealed class RespValue
{
    RespValue(char kind, string? text, long number, RespValue[]? items)
    {
        Kind = kind;
        Text = text;
        Number = number;
        Items = items;
    }

    /// <summary>The RESP3 type byte: '+', '$', ':', '*', '%', '~', '_'.</summary>
    public char Kind { get; }
    public string? Text { get; }
    public long Number { get; }
    public RespValue[]? Items { get; }

    public static RespValue Parse(byte[] data, ref int pos)
    {
        char kind = (char)data[pos];
        int lineEnd = Array.IndexOf(data, (byte)'\r', pos);
        string line = Encoding.ASCII.GetString(data, pos + 1, lineEnd - pos - 1);
        pos = lineEnd + 2;
        switch (kind)
        {
            case '+':
                return new RespValue(kind, line, 0, null);
            case ':':
                return new RespValue(kind, null, long.Parse(line), null);
            case '_':
                return new RespValue(kind, null, 0, null);
            case '$':
                int length = int.Parse(line);
                var text = Encoding.UTF8.GetString(data, pos, length);
                pos += length + 2;
                return new RespValue(kind, text, 0, null);
            case '*' or '~' or '%':
                int count = int.Parse(line) * (kind == '%' ? 2 : 1);
                var items = new RespValue[count];
                for (int i = 0; i < count; i++) items[i] = Parse(data, ref pos);
                return new RespValue(kind, null, 0, items);
            default:
                throw new FormatException($"Unexpected RESP type '{kind}' in command metadata");
        }
    }

    /// <summary>The same aggregate with other elements (used to list only the subcommands we serve).</summary>
    public RespValue WithItems(RespValue[] items) => new(Kind, null, 0, items);

    public static RespValue Bulk(string text) => new('$', text, 0, null);

    public void WriteTo(ReplyBuffer reply)
    {
        switch (Kind)
        {
            case '+': reply.SimpleString(Text!); break;
            case ':': reply.Integer(Number); break;
            case '_': reply.NullBulk(); break;
            case '$': reply.Bulk(Text!); break;
            case '*': reply.ArrayHeader(Items!.Length); break;
            case '~': reply.SetHeader(Items!.Length); break;
            case '%': reply.MapHeader(Items!.Length / 2); break;
        }
        if (Items is null) return;
        foreach (var item in Items) item.WriteTo(reply);
    }
}
