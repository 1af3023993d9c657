namespace MiniRedis.Config;

/// <summary>How streams size their listpack nodes.</summary>
public sealed partial class ServerConfig
{
    /// <summary>A stream node's listpack closes before it would reach this many bytes (0: no limit but Redis's 1 GB).</summary>
    public long StreamNodeMaxBytes { get; private set; }

    /// <summary>A stream node closes at this many entries, live and deleted (0: no limit).</summary>
    public long StreamNodeMaxEntries { get; private set; }
}
