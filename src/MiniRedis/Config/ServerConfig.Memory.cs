using System.Globalization;
using MiniRedis.Data;

namespace MiniRedis.Config;

/// <summary>The maxmemory family: the limit, the eviction policy and its tuning, client eviction.</summary>
public sealed partial class ServerConfig
{
    /// <summary>Bytes of used_memory past which keys are evicted (or deny-oom commands refused); 0 = no limit.</summary>
    public long Maxmemory { get; private set; }

    public MaxmemoryPolicy MaxmemoryPolicy { get; private set; }
    public int MaxmemorySamples { get; private set; }
    public int MaxmemoryEvictionTenacity { get; private set; }
    public int LfuLogFactor { get; private set; }
    public int LfuDecayTime { get; private set; }
    public bool LazyfreeLazyEviction { get; private set; }

    /// <summary>maxmemory-clients as given: bytes, or a percentage of maxmemory when <see cref="MaxmemoryClientsIsPercent"/>.</summary>
    public long MaxmemoryClientsValue { get; private set; }
    public bool MaxmemoryClientsIsPercent { get; private set; }

    /// <summary>The client memory limit in bytes (a percentage applies to maxmemory); 0 = no client eviction.</summary>
    public long MaxmemoryClients => MaxmemoryClientsIsPercent ? Maxmemory * MaxmemoryClientsValue / 100 : MaxmemoryClientsValue;

    private string FormatMaxmemoryClients() =>
        MaxmemoryClientsValue.ToString(CultureInfo.InvariantCulture) + (MaxmemoryClientsIsPercent ? "%" : "");

    private static IReadOnlyList<RewriteLine> RewriteMaxmemoryClients(ServerConfig config) =>
    [
        new RewriteLine("maxmemory-clients " + (config.MaxmemoryClientsIsPercent
            ? config.FormatMaxmemoryClients() : ConfigDirective.FormatMemory(config.MaxmemoryClientsValue)),
            config.MaxmemoryClientsIsPercent || config.MaxmemoryClientsValue != 0),
    ];

    /// <summary>Redis's PERCENT_CONFIG memory value: "N%" (at most 100) or a memory size.</summary>
    private string? SetMaxmemoryClients(IReadOnlyList<string> args)
    {
        string text = args[0];
        if (text.EndsWith('%'))
        {
            if (!NumberParsing.TryParseStrictLong(text[..^1], out long percent) || percent < 0)
                return "argument must be a memory or percent value";
            if (percent > 100) return "percentage argument must be less or equal to 100";
            (MaxmemoryClientsValue, MaxmemoryClientsIsPercent) = (percent, true);
            return null;
        }
        if (!NumberParsing.TryParseMemory(text, out ulong bytes)) return "argument must be a memory or percent value";
        if (bytes > long.MaxValue) return $"argument must be between 0 and {long.MaxValue} inclusive";
        (MaxmemoryClientsValue, MaxmemoryClientsIsPercent) = ((long)bytes, false);
        return null;
    }
}
