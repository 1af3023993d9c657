namespace MiniRedis.Security;

/// <summary>Why a command, key, channel or AUTH was denied (Redis's ACL_DENIED_*), as ACL LOG names it.</summary>
public enum AclDenial { Command, Key, Channel, Auth }

/// <summary>
/// Redis's ACL log: the latest denials first, bounded by acllog-max-len. A denial like one of the 10
/// latest entries (same reason, context, object and user, within 60 s) updates that entry and moves
/// it to the front instead of adding one.
/// </summary>
public sealed class AclLog
{
    public sealed class Entry
    {
        public long Count;
        public AclDenial Reason;
        public string Context = "";
        public byte[] Object = [];
        public string Username = "";
        public long UpdatedMs;
        public string ClientInfo = "";
    }

    readonly LinkedList<Entry> _entries = new();

    public int Count => _entries.Count;
    public IEnumerable<Entry> Latest => _entries;

    public void Clear() => _entries.Clear();

    public void Add(AclDenial reason, string context, byte[] obj, string username, long nowMs, string clientInfo, long maxLength)
    {
        int scanned = 0;
        for (var node = _entries.First; node is not null && scanned < 10; node = node.Next, scanned++)
        {
            var e = node.Value;
            if (e.Reason != reason || e.Context != context || Math.Abs(e.UpdatedMs - nowMs) > 60000
                || !e.Object.AsSpan().SequenceEqual(obj) || e.Username != username) continue;
            e.ClientInfo = clientInfo;
            e.UpdatedMs = nowMs;
            e.Count++;
            _entries.Remove(node);
            _entries.AddFirst(node);
            return;
        }
        _entries.AddFirst(new Entry { Count = 1, Reason = reason, Context = context, Object = obj, Username = username, UpdatedMs = nowMs, ClientInfo = clientInfo });
        Trim(maxLength);
    }

    public void Trim(long maxLength)
    {
        while (_entries.Count > maxLength) _entries.RemoveLast();
    }
}
