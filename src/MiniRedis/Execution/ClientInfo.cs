using System.Globalization;
using System.Text;
using MiniRedis.Protocol;

namespace MiniRedis.Execution;

/// <summary>A client described as CLIENT LIST, CLIENT INFO, the ACL log and the connection log show it.</summary>
public static class ClientInfo
{
    /// <summary>Redis's argv_len_sum: the bytes of a command's arguments.</summary>
    public static long ArgvBytes(ArgVector args)
    {
        long bytes = 0;
        for (int i = 0; i < args.Count; i++) bytes += args[i].Length;
        return bytes;
    }

    /// <summary>Redis's multi-mem (mstate.argv_len_sums): queued commands' argument bytes plus a pointer per argument.</summary>
    static long MultiBytes(ClientSession client)
    {
        long bytes = 0;
        foreach (var (_, args) in client.Queued) bytes += ArgvBytes(args) + IntPtr.Size * args.Count;
        return bytes;
    }

    /// <summary>
    /// One line of CLIENT LIST (Redis's getClientInfoString), Redis 7.0.15's fields in its order. The
    /// buffers are this server's: qbuf is what was read and not yet parsed (a parsed command has left
    /// it, so qbuf-free, the room Redis's sds has left, is 0), obl what the round's replies hold before
    /// they are sent, oll/omem what the socket has not taken yet, rbs/rbp the client's own reply buffer.
    /// </summary>
    public static void AppendLine(long now, ClientSession client, StringBuilder text, long argvBytes = 0)
    {
        var flags = new StringBuilder();
        if (client.IsReplica) flags.Append('S');
        if (client.Monitor) flags.Append('O');
        if (client.IsSubscribed) flags.Append('P');
        if (client.InMulti) flags.Append('x');
        if (client.Blocked is not null || client.Postponed) flags.Append('b');
        if (client.Tracking is not null) flags.Append('t');
        if (client.Tracking is { BrokenRedirect: true }) flags.Append('R');
        if (client.Tracking is { Bcast: true }) flags.Append('B');
        if (client.DirtyCas) flags.Append('d');
        if (client.CloseAfterReply) flags.Append('c');
        if (client.Connection?.IsUnixSocket == true) flags.Append('U');
        if (client.NoEvict) flags.Append('e');
        if (flags.Length == 0) flags.Append('N');
        var connection = client.Connection;
        if (client.Blocked is { } blocked) argvBytes = ArgvBytes(blocked.Args);
        long pending = connection?.PendingOutputBytes ?? 0;
        text.Append(CultureInfo.InvariantCulture,
            $"id={client.Id} addr={connection?.RemoteAddress} laddr={connection?.LocalAddress} fd={connection?.Fd ?? -1} name={client.Name} " +
            $"age={(now - client.CreatedMs) / 1000} idle={(now - client.LastInteractionMs) / 1000} flags={flags} db={client.Db.Index} " +
            $"sub={client.Subscriptions?.Channels.Count ?? 0} psub={client.Subscriptions?.Patterns.Count ?? 0} ssub={client.Subscriptions?.ShardChannels.Count ?? 0} " +
            $"multi={(client.InMulti ? client.Queued.Count : -1)} qbuf={connection?.QueryBufferBytes ?? 0} qbuf-free=0 argv-mem={argvBytes} multi-mem={MultiBytes(client)} " +
            $"rbs={client.Reply.OwnBufferSize} rbp={client.Reply.OwnBufferSize} obl={client.Reply.Length} oll={connection?.PendingOutputSegments ?? 0} omem={pending} " +
            $"tot-mem={client.MemoryBytes} events={(pending > 0 ? "rw" : "r")} " +
            $"cmd={client.LastCommand} user={client.User?.Name ?? "default"} redir={client.Tracking?.Redirect ?? -1} resp={client.Protocol}\n");
    }
}
