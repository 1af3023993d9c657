using MiniRedis.Data;

namespace MiniRedis.Execution;

/// <summary>A client's CLIENT TRACKING settings (Redis's CLIENT_TRACKING_* flags, redirection and prefixes): part of its session, kept by PubSub.ClientTracking.</summary>
public sealed class TrackingState
{
    public long Redirect { get; init; }
    public bool Bcast { get; init; }
    public bool OptIn { get; init; }
    public bool OptOut { get; init; }
    public bool NoLoop { get; init; }

    /// <summary>CLIENT CACHING was given for the next command (or transaction).</summary>
    public bool Caching { get; set; }

    /// <summary>The redirection client went away: invalidations are lost (CLIENT TRACKINGINFO broken_redirect).</summary>
    public bool BrokenRedirect { get; set; }

    /// <summary>BCAST prefixes, in byte order as Redis's radix tree lists them.</summary>
    public SortedSet<byte[]> Prefixes { get; } = new(StreamValue.ByteOrder.Instance);
}
