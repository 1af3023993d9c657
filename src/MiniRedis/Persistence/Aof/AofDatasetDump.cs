using Microsoft.Extensions.Logging;
using MiniRedis.Persistence.Dataset;
using MiniRedis.Io;

namespace MiniRedis.Persistence.Aof;

/// <summary>
/// Writes the whole dataset as a new AOF (blocking), for <c>CONFIG SET appendonly yes</c> and for
/// the AOF created at start: its base (see <see cref="AofBase"/>) replaces the
/// AOF through a <see cref="ReplacementFile"/>, so a failure leaves the old file alone.
/// </summary>
public static class AofDatasetDump
{
    /// <summary>Throws IOException or UnauthorizedAccessException when the new file could not be put in place.</summary>
    public static void WriteFile(PersistenceHost server, string path)
    {
        var keyspace = server.Keyspace;
        string temporary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, TempFiles.AofFromDataset);
        int errno = ReplacementFile.Write(server.Disk, temporary, path, file =>
        {
            var writer = AofBase.NewWriter(file, server.Config, keyspace, server.Functions.Codes());
            for (int i = 0; i < keyspace.Count; i++)
            {
                foreach (var entry in keyspace[i]) writer.WriteKey(i, entry);
            }
            writer.End();
        });
        if (errno != 0) server.Logger.LogWarning("Failed to fsync the AOF directory after creating the AOF: {Error}", Platform.ErrorText(errno));
    }
}
