using System.Text;
using MiniRedis.Execution;
using MiniRedis.Observability;

namespace MiniRedis.Commands;

/// <summary>
/// LATENCY LATEST/HISTORY/RESET/GRAPH/DOCTOR/HISTOGRAM/HELP (Redis's latency.c): the latency
/// monitor's events (Observability.LatencyMonitor) and the per-command histograms.
/// </summary>
public static unsafe class LatencyCommands
{
    static readonly string[] HelpLines =
    [
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
    ];

    public static void Register(CommandTable t)
    {
        t.Add("latency|latest", &Latest);
        t.Add("latency|history", &History);
        t.Add("latency|reset", &Reset);
        t.Add("latency|graph", &Graph);
        t.Add("latency|doctor", &Doctor);
        t.Add("latency|histogram", &Histogram);
        t.Add("latency|help", &Help);
    }

    static LatencyMonitor Monitor(CommandContext ctx) => ctx.Diagnostics.Latency;

    static void Help(CommandContext ctx) => ServerCommands.ReplyHelp(ctx, "LATENCY", HelpLines);

    /// <summary>Per event: its name, the time and latency of its latest sample, its all-time maximum.</summary>
    static void Latest(CommandContext ctx)
    {
        var events = Monitor(ctx).Events;
        var reply = ctx.Reply;
        reply.ArrayHeader(events.Count);
        foreach (var (name, series) in events)
        {
            var (time, latency) = series.Latest;
            reply.ArrayHeader(4);
            reply.Bulk(name);
            reply.Integer(time);
            reply.Integer(latency);
            reply.Integer(series.Max);
        }
    }

    /// <summary>The event's samples, oldest first; an unknown event has none.</summary>
    static void History(CommandContext ctx)
    {
        var samples = Monitor(ctx).Find(ctx.ArgString(2))?.Samples().ToList() ?? [];
        var reply = ctx.Reply;
        reply.ArrayHeader(samples.Count);
        foreach (var (time, latency) in samples)
        {
            reply.ArrayHeader(2);
            reply.Integer(time);
            reply.Integer(latency);
        }
    }

    static void Reset(CommandContext ctx)
    {
        var monitor = Monitor(ctx);
        if (ctx.ArgCount == 2)
        {
            ctx.Reply.Integer(monitor.Reset());
            return;
        }
        int resets = 0;
        for (int i = 2; i < ctx.ArgCount; i++) resets += monitor.Reset(ctx.ArgString(i));
        ctx.Reply.Integer(resets);
    }

    static void Graph(CommandContext ctx)
    {
        string name = ctx.ArgString(2);
        if (Monitor(ctx).Find(name) is not { } series)
        {
            ctx.Error($"ERR No samples available for event '{ctx.ArgCString(2)}'");
            return;
        }
        ctx.Reply.Verbatim(LatencyMonitor.Graph(name, series));
    }

    static void Doctor(CommandContext ctx)
    {
        ctx.Reply.Verbatim(Monitor(ctx).Doctor(ctx.Config.SlowlogLogSlowerThan,
            ctx.Config.AppendFsync == Config.AppendFsyncPolicy.Always, ctx.Config.Hz, AnonHugePages() > 0));
    }

    /// <summary>Redis's THPGetAnonHugePagesSize: the process's transparent huge pages, from /proc/self/smaps.</summary>
    static long AnonHugePages()
    {
        const string path = "/proc/self/smaps_rollup";
        if (!File.Exists(path)) return 0;
        foreach (var line in File.ReadLines(path))
        {
            if (!line.StartsWith("AnonHugePages:", StringComparison.Ordinal)) continue;
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length > 1 && long.TryParse(fields[1], out long kb) ? kb * 1024 : 0;
        }
        return 0;
    }

    /// <summary>
    /// LATENCY HISTOGRAM [command ...]: per command with calls, a map of its calls and cumulative
    /// distribution; a container command names its subcommands; unknown names are skipped.
    /// </summary>
    static void Histogram(CommandContext ctx)
    {
        var commands = new List<CommandDef>();
        if (ctx.ArgCount == 2)
        {
            foreach (var def in ctx.Commands.All)
            {
                commands.Add(def);
                if (def.Subcommands is not null) commands.AddRange(def.Subcommands.Values);
            }
        }
        else
        {
            for (int i = 2; i < ctx.ArgCount; i++)
            {
                if (FindByFullName(ctx, ctx.ArgString(i)) is not { } def) continue;
                commands.Add(def);
                if (def.Subcommands is not null) commands.AddRange(def.Subcommands.Values);
            }
        }
        var reply = ctx.Reply;
        var withData = commands.Where(c => c.LatencyHistogram is not null).ToList();
        reply.MapHeader(withData.Count);
        foreach (var def in withData)
        {
            var histogram = def.LatencyHistogram!;
            reply.Bulk(def.Name);
            reply.MapHeader(2);
            reply.Bulk("calls"u8);
            reply.Integer(histogram.TotalCount);
            reply.Bulk("histogram_usec"u8);
            var steps = histogram.CumulativeDistribution();
            reply.MapHeader(steps.Count);
            foreach (var (micros, cumulative) in steps)
            {
                reply.Integer(micros);
                reply.Integer(cumulative);
            }
        }
    }

    /// <summary>Redis's lookupCommandBySds: "name" or "container|subcommand".</summary>
    static CommandDef? FindByFullName(CommandContext ctx, string fullName)
    {
        var parts = fullName.Split('|');
        if (parts.Length > 2) return null;
        var def = ctx.Commands.Find(Encoding.Latin1.GetBytes(parts[0]));
        if (parts.Length == 1 || def is null) return def;
        return def.Subcommands?.GetValueOrDefault(parts[1].ToLowerInvariant());
    }
}
