using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.PubSub;
using MiniRedis.Protocol;

namespace MiniRedis.Commands;

/// <summary>
/// SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE, PUBLISH, SPUBLISH and
/// PUBSUB (Redis's pubsub.c). Confirmations are push frames in RESP3 (arrays in RESP2), one per
/// channel, with the client's count after it.
/// </summary>
public static unsafe class PubSubCommands
{
    static readonly string[] HelpLines =
    [
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
    ];

    public static void Register(CommandTable t)
    {
        t.Add("subscribe", &Subscribe);
        t.Add("unsubscribe", &Unsubscribe);
        t.Add("psubscribe", &PSubscribe);
        t.Add("punsubscribe", &PUnsubscribe);
        t.Add("ssubscribe", &SSubscribe);
        t.Add("sunsubscribe", &SUnsubscribe);
        t.Add("publish", &Publish);
        t.Add("spublish", &SPublish);
        t.Add("pubsub|channels", &Channels);
        t.Add("pubsub|shardchannels", &ShardChannels);
        t.Add("pubsub|numsub", &NumSub);
        t.Add("pubsub|shardnumsub", &ShardNumSub);
        t.Add("pubsub|numpat", &NumPat);
        t.Add("pubsub|help", &Help);
    }

    /// <summary>One confirmation: [kind, channel (null when there was none to leave), count].</summary>
    static void Confirm(ReplyBuffer reply, ReadOnlySpan<byte> kind, ReadOnlySpan<byte> channel, bool noChannel, int count)
    {
        reply.PushHeader(3);
        reply.Bulk(kind);
        if (noChannel) reply.NullBulk();
        else reply.Bulk(channel);
        reply.Integer(count);
    }

    static int Count(ClientSession client) => client.Subscriptions?.Count ?? 0;

    static int ShardCount(ClientSession client) => client.Subscriptions?.ShardChannels.Count ?? 0;

    static void Subscribe(CommandContext ctx)
    {
        var hub = ctx.PubSub;
        for (int i = 1; i < ctx.ArgCount; i++)
        {
            hub.Channels.Subscribe(ctx.Client, ctx.Arg(i).ToArray());
            Confirm(ctx.Reply, "subscribe"u8, ctx.Arg(i), false, Count(ctx.Client));
        }
    }

    static void PSubscribe(CommandContext ctx)
    {
        var hub = ctx.PubSub;
        for (int i = 1; i < ctx.ArgCount; i++)
        {
            hub.SubscribePattern(ctx.Client, ctx.Arg(i).ToArray());
            Confirm(ctx.Reply, "psubscribe"u8, ctx.Arg(i), false, Count(ctx.Client));
        }
    }

    static void SSubscribe(CommandContext ctx)
    {
        // Redis refuses it inside EXEC (a client that expects one reply per command), unlike SUBSCRIBE.
        if (ctx.Client.InExec)
        {
            ctx.Error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
            return;
        }
        var hub = ctx.PubSub;
        for (int i = 1; i < ctx.ArgCount; i++)
        {
            hub.ShardChannels.Subscribe(ctx.Client, ctx.Arg(i).ToArray());
            Confirm(ctx.Reply, "ssubscribe"u8, ctx.Arg(i), false, ShardCount(ctx.Client));
        }
    }

    static void Unsubscribe(CommandContext ctx) =>
        Leave(ctx, "unsubscribe"u8, ctx.Client.Subscriptions?.Channels, (hub, client, name) => hub.Channels.Unsubscribe(client, name), Count);

    static void PUnsubscribe(CommandContext ctx) =>
        Leave(ctx, "punsubscribe"u8, ctx.Client.Subscriptions?.Patterns, (hub, client, name) => hub.UnsubscribePattern(client, name), Count);

    static void SUnsubscribe(CommandContext ctx) =>
        Leave(ctx, "sunsubscribe"u8, ctx.Client.Subscriptions?.ShardChannels, (hub, client, name) => hub.ShardChannels.Unsubscribe(client, name), ShardCount);

    /// <summary>
    /// The three unsubscribe commands: the named channels (each confirmed, subscribed or not), or with
    /// no argument every one the client has, and a single null confirmation when it had none.
    /// </summary>
    static void Leave(CommandContext ctx, ReadOnlySpan<byte> kind, HashSet<byte[]>? own, Func<PubSubHub, ClientSession, byte[], bool> remove, Func<ClientSession, int> count)
    {
        var hub = ctx.PubSub;
        var client = ctx.Client;
        if (ctx.ArgCount > 1)
        {
            for (int i = 1; i < ctx.ArgCount; i++)
            {
                remove(hub, client, ctx.Arg(i).ToArray());
                Confirm(ctx.Reply, kind, ctx.Arg(i), false, count(client));
            }
            return;
        }
        if (own is not { Count: > 0 })
        {
            Confirm(ctx.Reply, kind, default, true, count(client));
            return;
        }
        foreach (var name in own.ToArray())
        {
            remove(hub, client, name);
            Confirm(ctx.Reply, kind, name, false, count(client));
        }
    }

    static void Publish(CommandContext ctx) => ctx.Reply.Integer(ctx.PubSub.Publish(ctx.Arg(1), ctx.Arg(2)));

    static void SPublish(CommandContext ctx) => ctx.Reply.Integer(ctx.PubSub.PublishShard(ctx.Arg(1), ctx.Arg(2)));

    static void Channels(CommandContext ctx) => ListChannels(ctx, ctx.PubSub.Channels);

    static void ShardChannels(CommandContext ctx) => ListChannels(ctx, ctx.PubSub.ShardChannels);

    /// <summary>PUBSUB CHANNELS / SHARDCHANNELS [pattern]: the active channels, those matching the pattern.</summary>
    static void ListChannels(CommandContext ctx, ChannelSpace space)
    {
        var pattern = ctx.ArgCount > 2 ? ctx.Arg(2).ToArray() : null;
        if (ctx.ArgCount > 3)
        {
            ServerCommands.SubcommandSyntaxError(ctx);
            return;
        }
        var reply = ctx.Reply;
        int handle = reply.BeginDeferredArray();
        int n = 0;
        foreach (var name in space.Names)
        {
            if (pattern is not null && !GlobPattern.Match(pattern, name)) continue;
            reply.Bulk(name);
            n++;
        }
        reply.EndDeferredArray(handle, n);
    }

    static void NumSub(CommandContext ctx) => CountSubscribers(ctx, ctx.PubSub.Channels);

    static void ShardNumSub(CommandContext ctx) => CountSubscribers(ctx, ctx.PubSub.ShardChannels);

    /// <summary>PUBSUB NUMSUB / SHARDNUMSUB: each named channel and its subscriber count (a flat array, also in RESP3).</summary>
    static void CountSubscribers(CommandContext ctx, ChannelSpace space)
    {
        ctx.Reply.ArrayHeader((ctx.ArgCount - 2) * 2);
        for (int i = 2; i < ctx.ArgCount; i++)
        {
            ctx.Reply.Bulk(ctx.Arg(i));
            ctx.Reply.Integer(space.SubscriberCount(ctx.Arg(i)));
        }
    }

    static void NumPat(CommandContext ctx) => ctx.Reply.Integer(ctx.PubSub.PatternCount);

    static void Help(CommandContext ctx) => ServerCommands.ReplyHelp(ctx, "PUBSUB", HelpLines);
}
