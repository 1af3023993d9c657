namespace MiniRedis.Execution;

/// <summary>What a client told with REPLCONF before SYNC/PSYNC (kept on its session until then).</summary>
public sealed class ReplicaHello
{
    public int ListeningPort { get; set; }
    public string? AnnouncedIp { get; set; }
    public bool CapaEof { get; set; }
    public bool CapaPsync2 { get; set; }
    public bool RdbOnly { get; set; }
}
