using System.Text;

namespace MiniRedis.Tests.Support;

/// <summary>
/// Splits a redis-cli style line into arguments with sdssplitargs's rules: "double quotes"
/// understand \xHH \n \r \t \b \a and any other escaped byte, 'single quotes' only \', and a
/// closing quote must be followed by a space or the end. Written independently of the server's
/// splitter so the two can check each other.
/// </summary>
public static class CommandLine
{
    public static List<byte[]> Split(string line)
    {
        var input = Encoding.UTF8.GetBytes(line);
        var args = new List<byte[]>();
        int i = 0;
        while (true)
        {
            while (i < input.Length && IsSpace(input[i])) i++;
            if (i == input.Length) return args;
            var arg = new List<byte>();
            byte quote = input[i] is (byte)'"' or (byte)'\'' ? input[i++] : (byte)0;
            while (true)
            {
                if (i == input.Length)
                {
                    if (quote != 0) throw new FormatException($"Unbalanced quotes: {line}");
                    break;
                }
                byte c = input[i];
                if (quote == 0)
                {
                    if (IsSpace(c)) break;
                    arg.Add(c);
                    i++;
                }
                else if (c == quote)
                {
                    i++;
                    if (i < input.Length && !IsSpace(input[i])) throw new FormatException($"Closing quote must be followed by a space: {line}");
                    break;
                }
                else if (c == '\\' && quote == '\'' && i + 1 < input.Length && input[i + 1] == '\'')
                {
                    arg.Add((byte)'\'');
                    i += 2;
                }
                else if (c == '\\' && quote == '"' && i + 3 < input.Length && input[i + 1] == 'x' && IsHex(input[i + 2]) && IsHex(input[i + 3]))
                {
                    arg.Add(Convert.ToByte(Encoding.ASCII.GetString(input, i + 2, 2), 16));
                    i += 4;
                }
                else if (c == '\\' && quote == '"' && i + 1 < input.Length)
                {
                    arg.Add(MiniRedis.Protocol.ArgSplitter.Unescaped(input[i + 1]));
                    i += 2;
                }
                else
                {
                    arg.Add(c);
                    i++;
                }
            }
            args.Add([.. arg]);
        }
    }

    static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f';
    static bool IsHex(byte c) => char.IsAsciiHexDigit((char)c);
}
