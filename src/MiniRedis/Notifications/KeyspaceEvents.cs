using MiniRedis.Data;

namespace MiniRedis.Notifications;

/// <summary>Redis's keyspace event classes (NOTIFY_*), one per letter of <c>notify-keyspace-events</c>.</summary>
[Flags]
public enum NotifyClass
{
    None = 0,
    Keyspace = 1 << 0,   // K
    Keyevent = 1 << 1,   // E
    Generic = 1 << 2,    // g
    String = 1 << 3,     // $
    List = 1 << 4,       // l
    Set = 1 << 5,        // s
    Hash = 1 << 6,       // h
    ZSet = 1 << 7,       // z
    Expired = 1 << 8,    // x
    Evicted = 1 << 9,    // e
    Stream = 1 << 10,    // t
    KeyMiss = 1 << 11,   // m (not part of A, on purpose, as in Redis)
    Module = 1 << 13,    // d
    New = 1 << 14,       // n (not part of A either)
    All = Generic | String | List | Set | Hash | ZSet | Expired | Evicted | Stream | Module,
}

/// <summary>Where keyspace events are published: the pub/sub room's PUBLISH (channel subscribers and matching patterns); returns the receivers.</summary>
public delegate int EventPublisher(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message);

/// <summary>
/// Keyspace notifications (Redis's notify.c): every change a command, expiry or eviction makes to a
/// key is announced, when its class is enabled, on <c>__keyspace@&lt;db&gt;__:&lt;key&gt;</c> (message: the
/// event) and <c>__keyevent@&lt;db&gt;__:&lt;event&gt;</c> (message: the key). The producers are the commands
/// (through <c>CommandContext.Notify</c>), key creation (<c>new</c>), expiry (<c>expired</c>) and eviction
/// (<see cref="KeyEvicted"/>); nothing is announced while a file loads.
/// </summary>
public sealed class KeyspaceEvents
{
    static readonly byte[] KeyspacePrefix = "__keyspace@"u8.ToArray();
    static readonly byte[] KeyeventPrefix = "__keyevent@"u8.ToArray();

    readonly Keyspace _keyspace;
    byte[] _channel = new byte[128];

    public KeyspaceEvents(Keyspace keyspace) => _keyspace = keyspace;

    /// <summary>The classes announced (notify-keyspace-events); the server keeps it in step with the config.</summary>
    public NotifyClass Enabled { get; set; }

    /// <summary>The pub/sub room's publish; events are dropped while none is set.</summary>
    public EventPublisher? Publisher { get; init; }

    /// <summary>Redis's notifyKeyspaceEvent.</summary>
    public void Notify(NotifyClass type, ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> key, int db)
    {
        var enabled = Enabled;
        if ((enabled & type) == 0 || Publisher is not { } publisher || _keyspace.Loading) return;
        if ((enabled & NotifyClass.Keyspace) != 0) publisher(Channel(KeyspacePrefix, db, key), eventName);
        if ((enabled & NotifyClass.Keyevent) != 0) publisher(Channel(KeyeventPrefix, db, eventName), key);
    }

    /// <summary>The one call site for eviction (memory): a key evicted under maxmemory.</summary>
    public void KeyEvicted(int db, ReadOnlySpan<byte> key) => Notify(NotifyClass.Evicted, "evicted"u8, key, db);

    /// <summary><c>prefix</c> + db + <c>__:</c> + suffix, in a buffer reused from call to call.</summary>
    ReadOnlySpan<byte> Channel(byte[] prefix, int db, ReadOnlySpan<byte> suffix)
    {
        int length = prefix.Length + 11 + 3 + suffix.Length;
        if (_channel.Length < length) _channel = new byte[Math.Max(length, _channel.Length * 2)];
        var span = _channel.AsSpan();
        prefix.CopyTo(span);
        int n = prefix.Length;
        n += RedisNumbers.FormatInt64(db, span[n..]);
        "__:"u8.CopyTo(span[n..]);
        n += 3;
        suffix.CopyTo(span[n..]);
        return span[..(n + suffix.Length)];
    }

    /// <summary>Redis's keyspaceEventsStringToFlags: null for an unknown letter.</summary>
    public static NotifyClass? Parse(string classes)
    {
        var flags = NotifyClass.None;
        foreach (char c in classes)
        {
            NotifyClass? flag = c switch
            {
                'A' => NotifyClass.All,
                'g' => NotifyClass.Generic,
                '$' => NotifyClass.String,
                'l' => NotifyClass.List,
                's' => NotifyClass.Set,
                'h' => NotifyClass.Hash,
                'z' => NotifyClass.ZSet,
                'x' => NotifyClass.Expired,
                'e' => NotifyClass.Evicted,
                'K' => NotifyClass.Keyspace,
                'E' => NotifyClass.Keyevent,
                't' => NotifyClass.Stream,
                'm' => NotifyClass.KeyMiss,
                'd' => NotifyClass.Module,
                'n' => NotifyClass.New,
                _ => null,
            };
            if (flag is null) return null;
            flags |= flag.Value;
        }
        return flags;
    }

    /// <summary>
    /// Redis's keyspaceEventsFlagsToString: the canonical form CONFIG GET shows. As in Redis 7.0, <c>n</c> is
    /// listed among the classes A stands for, though A does not enable it: with A it is not shown.
    /// </summary>
    public static string Format(NotifyClass flags)
    {
        var text = new System.Text.StringBuilder();
        if ((flags & NotifyClass.All) == NotifyClass.All) text.Append('A');
        else
        {
            (NotifyClass Flag, char Letter)[] classes =
            [
                (NotifyClass.Generic, 'g'), (NotifyClass.String, '$'), (NotifyClass.List, 'l'), (NotifyClass.Set, 's'),
                (NotifyClass.Hash, 'h'), (NotifyClass.ZSet, 'z'), (NotifyClass.Expired, 'x'), (NotifyClass.Evicted, 'e'),
                (NotifyClass.Stream, 't'), (NotifyClass.Module, 'd'), (NotifyClass.New, 'n'),
            ];
            foreach (var (flag, letter) in classes)
            {
                if ((flags & flag) != 0) text.Append(letter);
            }
        }
        if ((flags & NotifyClass.Keyspace) != 0) text.Append('K');
        if ((flags & NotifyClass.Keyevent) != 0) text.Append('E');
        if ((flags & NotifyClass.KeyMiss) != 0) text.Append('m');
        return text.ToString();
    }
}
