namespace MiniRedis.Config;

/// <summary>HyperLogLog tuning.</summary>
public sealed partial class ServerConfig
{
    /// <summary>hll-sparse-max-bytes: a sparse HyperLogLog that would grow past this many bytes (header included) becomes dense.</summary>
    public long HllSparseMaxBytes { get; private set; }
}
