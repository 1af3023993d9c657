using System.Globalization;
using System.Text;

namespace MiniRedis.Tests.Support;

/// <summary>
/// Debian's redis-sentinel 7.0 monitoring one master, with a config file of its own in a temporary
/// directory (Sentinel rewrites it as it learns replicas, other sentinels and failovers).
/// </summary>
public sealed class SentinelProcess : ServerProcess
{
    readonly string _directory = Directory.CreateTempSubdirectory("sentinel-").FullName;

    /// <param name="downAfterMs">How long the master may not answer before this sentinel deems it down.</param>
    /// <param name="failoverTimeoutMs">Sentinel's failover-timeout: how long a failover step may take before it is retried.</param>
    public SentinelProcess(string masterName, int masterPort, int quorum, int downAfterMs, int failoverTimeoutMs)
    {
        string configFile = Path.Combine(_directory, "sentinel.conf");
        File.WriteAllText(configFile, string.Create(CultureInfo.InvariantCulture,
            $"dir {_directory}\nsentinel monitor {masterName} 127.0.0.1 {masterPort} {quorum}\n" +
            $"sentinel down-after-milliseconds {masterName} {downAfterMs}\nsentinel failover-timeout {masterName} {failoverTimeoutMs}\n"));
        Start(RealRedisProcess.ExecutablePath("redis-sentinel"), port => [configFile, "--port", port.ToString(CultureInfo.InvariantCulture)], _directory);
    }

    /// <summary>SENTINEL GET-MASTER-ADDR-BY-NAME's port: the master this sentinel currently knows.</summary>
    public int MasterPort(string masterName)
    {
        using var connection = Connect();
        var reply = connection.Call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName);
        var lines = Encoding.ASCII.GetString(reply).Split("\r\n");
        return lines.Length > 4 ? int.Parse(lines[4], CultureInfo.InvariantCulture) : -1;
    }

    /// <summary>One field of SENTINEL MASTER (num-slaves, num-other-sentinels, flags...), or null.</summary>
    public string? MasterField(string masterName, string field)
    {
        using var connection = Connect();
        var items = connection.Call("SENTINEL", "MASTER", masterName);
        var lines = Encoding.ASCII.GetString(items).Split("\r\n");
        // *N, then $len / value pairs: names and values alternate.
        for (int i = 2; i + 2 < lines.Length; i += 4)
        {
            if (lines[i] == field) return lines[i + 2];
        }
        return null;
    }

    protected override void AfterExit()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
