namespace MiniRedis.Io;

/// <summary>
/// The AOF as the writer needs it: one positional write whose short count and errno are visible
/// (a stream hides both), fdatasync and ftruncate, each reporting an errno instead of throwing, so
/// Redis's MISCONF and log texts can be given and a fault injected where it happens.
/// </summary>
public interface IAppendFile : IDisposable
{
    long Length { get; }

    /// <summary>One write at <paramref name="offset"/>: the bytes written (possibly fewer), or -1 with <paramref name="errno"/>.</summary>
    long Write(ReadOnlySpan<byte> data, long offset, out int errno);

    /// <summary>fdatasync: 0 or the errno.</summary>
    int DataSync();

    /// <summary>ftruncate: 0 or the errno.</summary>
    int Truncate(long length);
}
