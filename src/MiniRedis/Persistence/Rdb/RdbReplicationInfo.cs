using System.Globalization;
using System.Text;

namespace MiniRedis.Persistence.Rdb;

/// <summary>
/// Redis's rdbSaveInfo: the replication history a dump's data is at, written as the AUX fields
/// <c>repl-stream-db</c>, <c>repl-id</c> and <c>repl-offset</c> (rdbSaveInfoAuxFields) by a master with a
/// backlog or a replica, so a replica restarted from the dump continues with PSYNC.
/// </summary>
/// <param name="StreamDb">The database the replication stream has selected at that offset.</param>
/// <param name="ReplId">The replication ID (40 hex digits).</param>
/// <param name="Offset">The replication offset the data corresponds to.</param>
public sealed record RdbReplicationInfo(int StreamDb, string ReplId, long Offset)
{
    /// <summary>
    /// The fields read back (rdbLoad's parsing of them): null unless all three are there and usable
    /// (a repl-id of 40 characters, a repl-stream-db other than -1), as loadDataFromDisk requires.
    /// </summary>
    public static RdbReplicationInfo? FromAux(IReadOnlyList<KeyValuePair<string, byte[]>> fields)
    {
        int? db = null;
        string? id = null;
        long? offset = null;
        foreach (var (name, value) in fields)
        {
            string text = Encoding.Latin1.GetString(value);
            if (name.Equals("repl-stream-db", StringComparison.OrdinalIgnoreCase) && int.TryParse(text, CultureInfo.InvariantCulture, out int parsedDb)) db = parsedDb;
            else if (name.Equals("repl-id", StringComparison.OrdinalIgnoreCase) && text.Length == 40) id = text;
            else if (name.Equals("repl-offset", StringComparison.OrdinalIgnoreCase) && long.TryParse(text, CultureInfo.InvariantCulture, out long parsedOffset)) offset = parsedOffset;
        }
        return db is { } streamDb and not -1 && id is not null && offset is { } at and not -1 ? new RdbReplicationInfo(streamDb, id, at) : null;
    }
}
