namespace MiniRedis.Io;

/// <summary>Redis's run and replication ids: 40 random hex digits.</summary>
public static class RandomId
{
    public static string NewHex() => Convert.ToHexStringLower(RandomBytes(20));

    /// <summary>
    /// Random bytes from /dev/urandom, as Redis takes its run id: the cryptography RNG would load
    /// OpenSSL into the process at start for this alone (about 5 MB of RSS).
    /// </summary>
    static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        if (!File.Exists("/dev/urandom")) return System.Security.Cryptography.RandomNumberGenerator.GetBytes(count);
        using var random = File.OpenRead("/dev/urandom");
        random.ReadExactly(bytes);
        return bytes;
    }
}
