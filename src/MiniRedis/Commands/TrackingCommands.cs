using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Protocol;
using MiniRedis.PubSub;

namespace MiniRedis.Commands;

/// <summary>CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO (client-side caching, Redis's networking.c and tracking.c).</summary>
public static unsafe class TrackingCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("client|tracking", &Tracking);
        t.Add("client|caching", &Caching);
        t.Add("client|getredir", &GetRedir);
        t.Add("client|trackinginfo", &TrackingInfo);
    }

    /// <summary>CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP], with Redis's checks in Redis's order.</summary>
    static void Tracking(CommandContext ctx)
    {
        long redirect = 0;
        bool bcast = false, optIn = false, optOut = false, noLoop = false;
        var prefixes = new List<byte[]>();
        for (int i = 3; i < ctx.ArgCount; i++)
        {
            bool more = i + 1 < ctx.ArgCount;
            if (ctx.ArgIs(i, "REDIRECT"u8) && more)
            {
                i++;
                if (redirect != 0)
                {
                    ctx.Error("ERR A client can only redirect to a single other client");
                    return;
                }
                if (!ctx.TryGetLong(i, out redirect)) return;
                if (ctx.FindClient(redirect) is null)
                {
                    ctx.Error("ERR The client ID you want redirect to does not exist");
                    return;
                }
            }
            else if (ctx.ArgIs(i, "BCAST"u8)) bcast = true;
            else if (ctx.ArgIs(i, "OPTIN"u8)) optIn = true;
            else if (ctx.ArgIs(i, "OPTOUT"u8)) optOut = true;
            else if (ctx.ArgIs(i, "NOLOOP"u8)) noLoop = true;
            else if (ctx.ArgIs(i, "PREFIX"u8) && more) prefixes.Add(ctx.Arg(++i).ToArray());
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
        }
        var client = ctx.Client;
        if (ctx.ArgIs(2, "OFF"u8))
        {
            ctx.Tracking.Disable(client);
            ctx.Reply.Ok();
            return;
        }
        if (!ctx.ArgIs(2, "ON"u8))
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        var current = client.Tracking;
        string? error = null;
        if (!bcast && prefixes.Count > 0) error = "ERR PREFIX option requires BCAST mode to be enabled";
        else if (current is not null && current.Bcast != bcast)
            error = "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
        else if (bcast && (optIn || optOut)) error = "ERR OPTIN and OPTOUT are not compatible with BCAST";
        else if (optIn && optOut) error = "ERR You can't specify both OPTIN mode and OPTOUT mode";
        else if ((optIn && current is { OptOut: true }) || (optOut && current is { OptIn: true }))
            error = "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";
        if (error is not null)
        {
            ctx.Error(error);
            return;
        }
        if (bcast && !CheckPrefixCollisions(ctx, current, prefixes)) return;
        ctx.Tracking.Enable(client, new TrackingState { Redirect = redirect, Bcast = bcast, OptIn = optIn, OptOut = optOut, NoLoop = noLoop }, prefixes);
        ctx.Reply.Ok();
    }

    /// <summary>
    /// Redis's checkPrefixCollisionsOrReply: a prefix may not be a prefix of another of the client's.
    /// As in Redis, an overlap between two new prefixes found after the first one is reported and
    /// then tracking is enabled anyway (its loop returns the index, which only 0 makes a failure).
    /// </summary>
    static bool CheckPrefixCollisions(CommandContext ctx, TrackingState? current, List<byte[]> prefixes)
    {
        for (int i = 0; i < prefixes.Count; i++)
        {
            foreach (var existing in current?.Prefixes ?? Enumerable.Empty<byte[]>())
            {
                if (!Overlap(existing, prefixes[i])) continue;
                ctx.Error($"ERR Prefix '{ArgVector.CString(prefixes[i])}' overlaps with an existing prefix '{ArgVector.CString(existing)}'. Prefixes for a single client must not overlap.");
                return false;
            }
            for (int j = i + 1; j < prefixes.Count; j++)
            {
                if (!Overlap(prefixes[i], prefixes[j])) continue;
                ctx.Error($"ERR Prefix '{ArgVector.CString(prefixes[i])}' overlaps with another provided prefix '{ArgVector.CString(prefixes[j])}'. Prefixes for a single client must not overlap.");
                return i != 0;
            }
        }
        return true;
    }

    static bool Overlap(byte[] a, byte[] b) => a.AsSpan().StartsWith(b) || b.AsSpan().StartsWith(a);

    static void Caching(CommandContext ctx)
    {
        if (ctx.Client.Tracking is not { } state)
        {
            ctx.Error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
            return;
        }
        if (ctx.ArgIs(2, "YES"u8))
        {
            if (!state.OptIn)
            {
                ctx.Error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
                return;
            }
        }
        else if (ctx.ArgIs(2, "NO"u8))
        {
            if (!state.OptOut)
            {
                ctx.Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
                return;
            }
        }
        else
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        state.Caching = true;
        ctx.Reply.Ok();
    }

    static void GetRedir(CommandContext ctx) => ctx.Reply.Integer(ctx.Client.Tracking?.Redirect ?? -1);

    static void TrackingInfo(CommandContext ctx)
    {
        var state = ctx.Client.Tracking;
        var reply = ctx.Reply;
        reply.MapHeader(3);
        reply.Bulk("flags"u8);
        var flags = new List<string> { state is null ? "off" : "on" };
        if (state is not null)
        {
            if (state.Bcast) flags.Add("bcast");
            if (state.OptIn) flags.Add("optin");
            if (state.OptIn && state.Caching) flags.Add("caching-yes");
            if (state.OptOut) flags.Add("optout");
            if (state.OptOut && state.Caching) flags.Add("caching-no");
            if (state.NoLoop) flags.Add("noloop");
            if (state.BrokenRedirect) flags.Add("broken_redirect");
        }
        reply.SetHeader(flags.Count);
        foreach (var flag in flags) reply.Bulk(flag);
        reply.Bulk("redirect"u8);
        reply.Integer(state?.Redirect ?? -1);
        reply.Bulk("prefixes"u8);
        reply.ArrayHeader(state?.Prefixes.Count ?? 0);
        foreach (var prefix in state?.Prefixes ?? Enumerable.Empty<byte[]>()) reply.Bulk(prefix);
    }
}
