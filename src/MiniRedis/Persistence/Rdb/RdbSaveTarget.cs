using Microsoft.Extensions.Logging;

namespace MiniRedis.Persistence.Rdb;

/// <summary>
/// Where a background save's image goes: the dump file (<see cref="RdbDumpTarget"/>), or the sockets
/// of replicas in a diskless full sync (Replication's transfer). The save job writes the image to
/// <see cref="Sink"/> on its writer thread and owns the target (disposes of it).
/// </summary>
public interface IRdbSaveTarget : IDisposable
{
    Stream Sink { get; }

    /// <summary>Redis's child type in logs and INFO: a socket target is a transfer, not a save.</summary>
    bool IsSocket { get; }

    /// <summary>The image is whole (writer thread): put in place or delivered; false (logged) when that failed.</summary>
    bool Complete();

    /// <summary>A write of the image failed (writer thread): logged, and what was written discarded.</summary>
    void WriteFailed(Exception error);

    /// <summary>The save is being cancelled (executor): a writer blocked in <see cref="Sink"/> must return (with an IOException).</summary>
    void Interrupt();

    /// <summary>After a cancellation, once the writer thread is gone: what was written is discarded.</summary>
    void Abandon();
}

/// <summary>A BGSAVE's target: the temporary file, renamed over the dump when complete.</summary>
public sealed class RdbDumpTarget(RdbFileStream file, string targetPath, ILogger logger) : IRdbSaveTarget
{
    public Stream Sink => file;
    public bool IsSocket => false;

    public bool Complete()
    {
        if (!file.Commit(targetPath)) return false;
        logger.LogInformation("DB saved on disk");
        return true;
    }

    public void WriteFailed(Exception error) => file.WriteFailed(error);
    public void Interrupt() { }
    public void Abandon() => file.Abandon();
    public void Dispose() => file.Dispose();
}
