using Microsoft.Extensions.Logging;

namespace MiniRedis.Io;

/// <summary>
/// The temporary names of the writers that replace files in <c>dir</c>, in one list, so a file a
/// crash left behind is recognised and removed at the next start. The pid in each name keeps two
/// servers sharing a directory apart, as Redis's names do.
/// </summary>
public static class TempFiles
{
    static int Pid => Environment.ProcessId;

    /// <summary>SAVE and SHUTDOWN write <c>temp-&lt;pid&gt;.rdb</c>, BGSAVE <c>temp-bgsave-&lt;pid&gt;.rdb</c> (a forked child's own pid keeps Redis's apart).</summary>
    public static string RdbSave(bool background) => $"temp-{(background ? "bgsave-" : "")}{Pid}.rdb";

    /// <summary>The new AOF a rewrite writes.</summary>
    public static string AofRewrite => $"temp-rewriteaof-{Pid}.aof";

    /// <summary>The rewrite buffer spilled while the rewrite's snapshot is written.</summary>
    public static string AofRewriteBuffer => $"temp-rewriteaof-incr-{Pid}.aof";

    /// <summary>The AOF created from the dataset (CONFIG SET appendonly yes, a start that loaded the RDB).</summary>
    public static string AofFromDataset => $"temp-appendonly-{Pid}.aof";

    static readonly (string Pattern, string Writer)[] s_leftovers =
    [
        ("temp-rewriteaof-*.aof", "AOF rewrite"),
        ("temp-appendonly-*.aof", "AOF creation"),
        ("temp-*.rdb", "RDB save"),
    ];

    /// <summary>At start: temporary files of writers the process did not finish (it died) are removed.</summary>
    public static void RemoveLeftovers(string dir, ILogger logger)
    {
        if (!Directory.Exists(dir)) return;
        foreach (var (pattern, writer) in s_leftovers)
        {
            foreach (var path in Directory.EnumerateFiles(dir, pattern))
            {
                logger.LogInformation("Removing the temporary file {File} of an interrupted {Writer}", Path.GetFileName(path), writer);
                File.Delete(path);
            }
        }
    }
}
