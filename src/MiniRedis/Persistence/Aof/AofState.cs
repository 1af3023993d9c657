using Microsoft.Extensions.Logging;
using MiniRedis.Config;
using MiniRedis.Persistence.Dataset;
using MiniRedis.Io;
using MiniRedis.Persistence.Rdb;

namespace MiniRedis.Persistence.Aof;

/// <summary>
/// The server's AOF: loading it at start, the writer while <c>appendonly</c> is on, turning it on
/// and off at runtime, the shutdown flush, and the INFO persistence values. Executor thread only
/// (INFO reads are made there too).
/// </summary>
public sealed class AofState
{
    readonly PersistenceHost _server;

    readonly Action _cancelRewrite;

    internal AofState(PersistenceHost server, LoadingProgress loading, RdbState rdbStats, Action cancelRewrite)
    {
        _server = server;
        Loading = loading;
        RdbStats = rdbStats;
        _cancelRewrite = cancelRewrite;
        server.Config.RegisterApplier("appendonly", ApplyAppendOnly);
    }

    /// <summary>Where the loader reports its progress.</summary>
    internal LoadingProgress Loading { get; }

    /// <summary>Where the loader of an RDB preamble counts the keys it loads (INFO's rdb_last_load_keys_*).</summary>
    internal RdbState RdbStats { get; }

    /// <summary>The open writer; null while the AOF is off or loading.</summary>
    public AofWriter? Writer { get; private set; }

    public string FilePath => Path.Combine(_server.Config.Dir, _server.Config.AppendFilename);

    /// <summary>aof_enabled: the writer is logging.</summary>
    public bool Enabled => Writer is not null;

    /// <summary>aof_last_write_status: "err" after a failed write or background fsync, as Redis 7.0 reports both.</summary>
    public string LastWriteStatus => Writer is null || Writer.DiskErrno == 0 ? "ok" : "err";

    public long CurrentSize => Writer?.CurrentSize ?? 0;
    public long BaseSize => Writer?.BaseSize ?? 0;
    public long BufferLength => Writer?.BufferLength ?? 0;
    public long PendingBioFsync => Writer?.PendingFsyncs ?? 0;
    public long DelayedFsync => Writer?.DelayedFsyncs ?? 0;

    /// <summary>CONFIG RESETSTAT: aof_delayed_fsync.</summary>
    public void ResetStats() => Writer?.ResetStats();

    /// <summary>
    /// The text after "-MISCONF " when write commands must be refused because the AOF can't be
    /// written or fsynced; null when writes are allowed.
    /// </summary>
    public string? WriteDeniedError =>
        Writer is { DiskErrno: not 0 } writer ? "MISCONF Errors writing to the AOF file: " + Platform.ErrorText(writer.DiskErrno) : null;

    /// <summary>Redis 7's multi-part AOF directory in <c>dir</c>.</summary>
    string MultiPartDirectory => Path.Combine(_server.Config.Dir, _server.Config.AppendDirname);

    string ManifestPath => Path.Combine(MultiPartDirectory, _server.Config.AppendFilename + ".manifest");

    /// <summary>
    /// At start, with <c>appendonly yes</c>: loads the AOF when there is one, then opens it for
    /// appending. Without ours but with a Redis 7 multi-part AOF (a data directory Redis 7 left), that
    /// one is loaded instead and our AOF is created from the result, so the next start loads ours.
    /// <paramref name="done"/> (on the executor) gets false when the server must not start.
    /// </summary>
    public void Start(Action<bool> done)
    {
        if (!_server.Config.AppendOnly)
        {
            _server.Executor.Post(() => done(true));
            return;
        }
        string path = FilePath;
        if (HasOwnFileToLoad)
        {
            AofLoader.Start(_server, this, [path], loaded => done(loaded && Open(path)));
            return;
        }
        if (!HasMultiPartToImport)
        {
            _server.Executor.Post(() => done(CreateWithDataset(path)));
            return;
        }
        string directory = MultiPartDirectory;
        List<string> files;
        try
        {
            files = [.. AofManifest.Load(ManifestPath).Files.Select(name => Path.Combine(directory, name))];
        }
        catch (Exception e) when (e is AofManifestException or IOException or UnauthorizedAccessException)
        {
            _server.Logger.LogWarning("Can't import the AOF directory {Directory}: the manifest {Manifest} is not valid: {Error}", directory, ManifestPath, e.Message);
            _server.Executor.Post(() => done(false));
            return;
        }
        if (files.FirstOrDefault(file => !File.Exists(file)) is { } missing)
        {
            _server.Logger.LogWarning("Can't import the AOF directory {Directory}: the file {File} listed in its manifest does not exist", directory, missing);
            _server.Executor.Post(() => done(false));
            return;
        }
        _server.Logger.LogInformation("Importing the multi part AOF of Redis 7 from the directory {Directory} ({Files} files)", directory, files.Count);
        AofLoader.Start(_server, this, files, loaded =>
        {
            if (!loaded)
            {
                done(false);
                return;
            }
            _server.Logger.LogInformation("Successfully imported the multi part AOF directory {Directory} into the append-only file {Path}", directory, path);
            done(CreateWithDataset(path));
        });
    }

    /// <summary>There is an AOF to load at start (otherwise the dataset comes from the RDB, and the AOF is created from it).</summary>
    public bool HasDataToLoad => HasOwnFileToLoad || HasMultiPartToImport;

    bool HasOwnFileToLoad => File.Exists(FilePath) && new FileInfo(FilePath).Length > 0;

    /// <summary>Our AOF does not exist but Redis 7's manifest does: it is imported (a broken one refuses the start).</summary>
    bool HasMultiPartToImport => !File.Exists(FilePath) && File.Exists(ManifestPath);

    /// <summary>A new AOF starts with the dataset already in memory (loaded from the RDB), so the next start loses nothing.</summary>
    bool CreateWithDataset(string path)
    {
        if (!DatasetGate.Allows(_server, "Creating the append-only file")) return false;
        if (_server.Keyspace.TotalKeys() > 0)
        {
            try
            {
                AofDatasetDump.WriteFile(_server, path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _server.Logger.LogWarning("Can't write the dataset to the new append-only file {Path}: {Error}", path, e.Message);
                return false;
            }
        }
        return Open(path);
    }

    bool Open(string path)
    {
        try
        {
            Writer = new AofWriter(path, _server.Disk, _server.Config, _server.Logger, _server.Fatal) { Latency = _server.Latency };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _server.Logger.LogWarning("Can't open the append-only file {Path}: {Error}", path, e.Message);
            return false;
        }
        _server.Propagation.AddSink(Writer);
        return true;
    }

    /// <summary>CONFIG SET appendonly: yes writes the dataset to a new AOF first; no closes it.</summary>
    string? ApplyAppendOnly()
    {
        if (_server.Config.AppendOnly == Enabled || Loading.Active) return null;
        if (!_server.Config.AppendOnly)
        {
            _cancelRewrite();
            Close();
            return null;
        }
        if (!DatasetGate.Allows(_server, "Turning on the AOF")) return "Unable to turn on AOF. Check server logs.";
        // A rewrite started with the AOF off keeps no tail: renamed over the file written now, it would lose
        // the writes since its instant (Redis kills that child too).
        _cancelRewrite();
        string path = FilePath;
        try
        {
            AofDatasetDump.WriteFile(_server, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            _server.Logger.LogWarning("Unable to turn on AOF: {Error}", e.Message);
            return "Unable to turn on AOF. Check server logs.";
        }
        _server.Logger.LogInformation("Background append only file rewriting started (blocking dump to {Path})", path);
        return Open(path) ? null : "Unable to turn on AOF. Check server logs.";
    }

    /// <summary>
    /// After a background rewrite renamed its file over the AOF: logging continues in the new file.
    /// The old writer's unwritten records are not written: the rewrite's tail already holds them.
    /// </summary>
    internal void ReopenAfterRewrite()
    {
        if (Writer is not { } old) return;
        _server.Propagation.RemoveSink(old);
        // Closing joins the old file's fsync thread, which may be mid-fsync: not on the executor (Redis closes it in a bio thread).
        Task.Run(old.Dispose);
        Writer = null;
        Open(FilePath);
    }

    void Close()
    {
        if (Writer is null) return;
        _server.Propagation.RemoveSink(Writer);
        Writer.FlushAndSync();
        Writer.Dispose();
        Writer = null;
    }

    /// <summary>Once a second from the cron: retry failed writes, and the fsync everysec owes.</summary>
    internal void Cron() => Writer?.Cron();

    /// <summary>Shutdown: everything written and fsynced whatever the policy, then closed.</summary>
    public void Shutdown()
    {
        if (Writer is null) return;
        _server.Logger.LogInformation("Calling fsync() on the AOF file.");
        Close();
    }
}
