using MiniRedis.Data;

namespace MiniRedis.Persistence.Aof;

/// <summary>A collection value that can write itself as the commands that rebuild it (RPUSH, SADD... in batches).</summary>
public interface IAofRewritable
{
    void WriteCommands(ReadOnlySpan<byte> key, AofEncoder encoder);
}

/// <summary>
/// Writes the whole dataset as a command program (blocking), for <c>CONFIG SET appendonly yes</c>
/// until background rewriting exists: per database a SELECT, per key its value's commands and a
/// PEXPIREAT for a TTL. Written to a temporary file, fsynced, then renamed over the AOF.
/// </summary>
public static class AofDatasetDump
{
    const int WriteThreshold = 1 << 20;

    public static void WriteFile(Keyspace keyspace, string path)
    {
        string temporary = $"{path}.temp-{Environment.ProcessId}";
        try
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                var encoder = new AofEncoder();
                for (int i = 0; i < keyspace.Count; i++)
                {
                    var db = keyspace[i];
                    if (db.Count == 0) continue;
                    encoder.BeginCommand(2);
                    encoder.Bulk("SELECT"u8);
                    encoder.Bulk(i);
                    foreach (var entry in db)
                    {
                        WriteKey(entry, encoder);
                        if (encoder.Length >= WriteThreshold) Drain(encoder, file);
                    }
                }
                Drain(encoder, file);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    static void WriteKey(KeyEntry entry, AofEncoder encoder)
    {
        switch (entry.Value)
        {
            case byte[] value:
                encoder.BeginCommand(3);
                encoder.Bulk("SET"u8);
                encoder.Bulk(entry.Key);
                encoder.Bulk(value);
                break;
            case IAofRewritable rewritable:
                rewritable.WriteCommands(entry.Key, encoder);
                break;
            default:
                throw new NotSupportedException($"a {entry.Type} value cannot be written to the AOF yet");
        }
        if (entry.ExpireAt != 0)
        {
            encoder.BeginCommand(3);
            encoder.Bulk("PEXPIREAT"u8);
            encoder.Bulk(entry.Key);
            encoder.Bulk(entry.ExpireAt);
        }
    }

    static void Drain(AofEncoder encoder, FileStream file)
    {
        file.Write(encoder.Written);
        encoder.Consume(encoder.Length);
    }
}
