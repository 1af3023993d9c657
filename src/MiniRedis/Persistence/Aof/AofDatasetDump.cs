using MiniRedis.Config;
using MiniRedis.Data;
using MiniRedis.Persistence.Snapshot;

namespace MiniRedis.Persistence.Aof;

/// <summary>
/// Writes the whole dataset as a new AOF (blocking), for <c>CONFIG SET appendonly yes</c> and for
/// the AOF created at start: its base (see <see cref="DatasetImageWriter.ForAofBase"/>) into a temporary file,
/// fsynced, then renamed over the AOF, so a failure leaves the old file alone.
/// </summary>
public static class AofDatasetDump
{
    public static void WriteFile(Keyspace keyspace, IReadOnlyList<byte[]> libraries, ServerConfig config, string path)
    {
        string temporary = $"{path}.temp-{Environment.ProcessId}";
        try
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                var writer = DatasetImageWriter.ForAofBase(file, config, keyspace, libraries);
                for (int i = 0; i < keyspace.Count; i++)
                {
                    foreach (var entry in keyspace[i]) writer.WriteKey(i, entry);
                }
                writer.End();
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}

