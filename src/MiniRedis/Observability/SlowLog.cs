using System.Globalization;
using System.Text;
using MiniRedis.Config;
using MiniRedis.Protocol;

namespace MiniRedis.Observability;

/// <summary>One SLOWLOG GET entry: Redis's slowlogEntry.</summary>
public sealed record SlowLogEntry(long Id, long UnixTime, long Microseconds, byte[][] Args, string ClientAddress, string ClientName);

/// <summary>
/// Redis's slowlog.c: commands that ran for at least slowlog-log-slower-than microseconds, newest
/// first, at most slowlog-max-len of them. An entry keeps at most 32 arguments (the last one then
/// says how many more there were) and 128 bytes of each. Nothing is allocated unless a command
/// is slow enough to be logged.
/// </summary>
public sealed class SlowLog(ServerConfig config)
{
    const int MaxArgs = 32;
    const int MaxArgBytes = 128;
    static readonly byte[] Redacted = "(redacted)"u8.ToArray();

    readonly LinkedList<SlowLogEntry> _entries = new();
    long _nextId;

    public int Count => _entries.Count;

    /// <summary>Newest first.</summary>
    public IEnumerable<SlowLogEntry> Entries => _entries;

    /// <summary>Redis's slowlogPushEntryIfNeeded's test: whether a command that took this long is logged.</summary>
    public bool IsSlow(long microseconds)
    {
        long threshold = config.SlowlogLogSlowerThan;
        return threshold >= 0 && microseconds >= threshold;
    }

    /// <summary>Logs a slow command; <paramref name="redacted"/> marks arguments shown as "(redacted)" (AUTH's passwords...).</summary>
    public void Push(ArgVector args, ulong redacted, long microseconds, string clientAddress, string clientName)
    {
        _entries.AddFirst(new SlowLogEntry(_nextId++, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), microseconds,
            EntryArgs(args, redacted), clientAddress, clientName));
        Trim();
    }

    static byte[][] EntryArgs(ArgVector args, ulong redacted)
    {
        int count = Math.Min(args.Count, MaxArgs);
        var kept = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            if (count != args.Count && i == count - 1)
            {
                kept[i] = Encoding.ASCII.GetBytes($"... ({args.Count - count + 1} more arguments)");
                continue;
            }
            if (i < 64 && (redacted & (1UL << i)) != 0)
            {
                kept[i] = Redacted;
                continue;
            }
            var arg = args[i];
            kept[i] = arg.Length <= MaxArgBytes
                ? arg.ToArray()
                : [.. arg[..MaxArgBytes], .. Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"... ({arg.Length - MaxArgBytes} more bytes)"))];
        }
        return kept;
    }

    /// <summary>Drops the oldest entries past slowlog-max-len (also when the limit is lowered: at the next push, as in Redis).</summary>
    void Trim()
    {
        while (_entries.Count > config.SlowlogMaxLen) _entries.RemoveLast();
    }

    public void Reset() => _entries.Clear();
}
