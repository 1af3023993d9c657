using System.Text;

namespace MiniRedis.Persistence.Aof;

/// <summary>The manifest cannot be used; the message says why, in Redis's words where it has some.</summary>
public sealed class AofManifestException(string message) : Exception(message);

/// <summary>
/// The manifest of Redis 7's multi-part AOF (<c>appenddirname/appendfilename.manifest</c>), read as
/// aofLoadManifestFromFile reads it: one line per file, <c>file &lt;name&gt; seq &lt;n&gt; type
/// &lt;b|h|i&gt;</c> (pairs in any order, names possibly quoted), <c>#</c> comments. At most one base
/// (b); incr files (i) replay after it in the order listed, their sequence numbers increasing;
/// history files (h) are waiting for deletion and are not part of the dataset.
/// </summary>
public sealed class AofManifest
{
    /// <summary>Redis reads manifest lines into a buffer of this size.</summary>
    const int MaxLineLength = 1024;

    AofManifest(string? baseFile, IReadOnlyList<string> incrFiles)
    {
        BaseFile = baseFile;
        IncrFiles = incrFiles;
    }

    /// <summary>The base file's name (.rdb or .aof), or null.</summary>
    public string? BaseFile { get; }

    /// <summary>The incr files' names in replay order.</summary>
    public IReadOnlyList<string> IncrFiles { get; }

    /// <summary>Every file to load, in order, as names inside the AOF directory.</summary>
    public IEnumerable<string> Files => BaseFile is null ? IncrFiles : IncrFiles.Prepend(BaseFile);

    public static AofManifest Load(string path) => Parse(File.ReadAllBytes(path));

    public static AofManifest Parse(byte[] text)
    {
        string? baseFile = null;
        var incrFiles = new List<string>();
        long lastIncrSeq = 0;
        int lineNumber = 0;
        foreach (var rawLine in SplitLines(text))
        {
            lineNumber++;
            if (rawLine.Length > 0 && rawLine[0] == (byte)'#') continue;
            if (rawLine.Length >= MaxLineLength) throw new AofManifestException("The AOF manifest file contains too long line");
            var fields = SplitArguments(Encoding.Latin1.GetString(rawLine).Trim(' ', '\t', '\r', '\n'), lineNumber);
            if (fields.Count < 6 || fields.Count % 2 != 0) throw Invalid(lineNumber);
            string? name = null, type = null;
            long seq = 0;
            for (int i = 0; i < fields.Count; i += 2)
            {
                switch (fields[i])
                {
                    case "file":
                        name = fields[i + 1];
                        if (name != Path.GetFileName(name)) throw new AofManifestException($"File can't be a path, just a filename (line {lineNumber}: {name})");
                        break;
                    case "seq":
                        if (!long.TryParse(fields[i + 1], out seq)) throw Invalid(lineNumber);
                        break;
                    case "type":
                        type = fields[i + 1];
                        break;
                }
            }
            if (name is null || seq <= 0 || type is not { Length: 1 }) throw Invalid(lineNumber);
            switch (type[0])
            {
                case 'b':
                    if (baseFile is not null) throw new AofManifestException($"Found duplicate base file information (line {lineNumber})");
                    baseFile = name;
                    break;
                case 'h':
                    break;
                case 'i':
                    if (seq <= lastIncrSeq) throw new AofManifestException($"Found a non-monotonic sequence number (line {lineNumber})");
                    lastIncrSeq = seq;
                    incrFiles.Add(name);
                    break;
                default:
                    throw new AofManifestException($"Unknown AOF file type (line {lineNumber}: {type})");
            }
        }
        if (baseFile is null && incrFiles.Count == 0) throw new AofManifestException("Found an empty AOF manifest");
        return new AofManifest(baseFile, incrFiles);
    }

    static AofManifestException Invalid(int lineNumber) => new($"Invalid AOF manifest file format (line {lineNumber})");

    static IEnumerable<byte[]> SplitLines(byte[] text)
    {
        int start = 0;
        while (start < text.Length)
        {
            int newline = Array.IndexOf(text, (byte)'\n', start);
            int end = newline < 0 ? text.Length : newline;
            yield return text[start..end];
            start = end + 1;
        }
    }

    /// <summary>sdssplitargs: words separated by spaces, double quotes with backslash escapes, single quotes literal.</summary>
    static List<string> SplitArguments(string line, int lineNumber)
    {
        var words = new List<string>();
        int i = 0;
        while (true)
        {
            while (i < line.Length && char.IsWhiteSpace(line[i])) i++;
            if (i == line.Length) return words;
            var word = new StringBuilder();
            char quote = line[i] is '"' or '\'' ? line[i++] : '\0';
            while (true)
            {
                if (i == line.Length)
                {
                    if (quote != '\0') throw Invalid(lineNumber);
                    break;
                }
                char c = line[i++];
                if (quote == '\0' && char.IsWhiteSpace(c)) break;
                if (c == quote)
                {
                    // A closing quote must end the word.
                    if (i < line.Length && !char.IsWhiteSpace(line[i])) throw Invalid(lineNumber);
                    break;
                }
                if (quote == '"' && c == '\\' && i < line.Length)
                {
                    word.Append(Unescape(line, ref i));
                    continue;
                }
                word.Append(c);
            }
            words.Add(word.ToString());
        }
    }

    static char Unescape(string line, ref int i)
    {
        char c = line[i++];
        if (c == 'x' && i + 1 < line.Length && Uri.IsHexDigit(line[i]) && Uri.IsHexDigit(line[i + 1]))
        {
            char value = (char)Convert.ToByte(line.Substring(i, 2), 16);
            i += 2;
            return value;
        }
        return c switch { 'n' => '\n', 'r' => '\r', 't' => '\t', 'b' => '\b', 'a' => '\a', _ => c };
    }
}
