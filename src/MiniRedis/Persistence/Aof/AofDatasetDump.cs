using MiniRedis.Data;

namespace MiniRedis.Persistence.Aof;

/// <summary>
/// Writes the whole dataset as a new AOF (blocking), for <c>CONFIG SET appendonly yes</c> until
/// background rewriting exists: the <see cref="AofRewriteEmitter"/> program into a temporary file,
/// fsynced, then renamed over the AOF, so a failure leaves the old file alone.
/// </summary>
public static class AofDatasetDump
{
    public static void WriteFile(Keyspace keyspace, string path)
    {
        string temporary = $"{path}.temp-{Environment.ProcessId}";
        try
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                new AofRewriteEmitter(file).WriteDataset(keyspace);
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
