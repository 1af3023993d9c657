using System.Globalization;

namespace MiniRedis.Memory;

/// <summary>What the operating system says about the process and the machine (Redis's zmalloc_get_rss, total system memory).</summary>
public static class ProcessMemory
{
    /// <summary>Resident pages from /proc/self/statm (as Redis's zmalloc_get_rss); 0 when unavailable.</summary>
    public static long ResidentSetSize()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        var fields = File.ReadAllText("/proc/self/statm").Split(' ');
        return long.Parse(fields[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
    }

    /// <summary>MemTotal from /proc/meminfo; 0 when unavailable.</summary>
    public static long TotalSystemMemory()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        foreach (var line in File.ReadLines("/proc/meminfo"))
        {
            if (!line.StartsWith("MemTotal:", StringComparison.Ordinal)) continue;
            var kilobytes = line["MemTotal:".Length..].Trim().Split(' ')[0];
            return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
        }
        return 0;
    }
}
