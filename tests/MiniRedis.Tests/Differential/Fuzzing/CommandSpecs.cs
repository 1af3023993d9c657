using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Differential.Fuzzing;

/// <summary>One argument of a command as COMMAND DOCS describes it (a leaf, a oneof or a block).</summary>
public sealed record ArgSpec(string Name, string Type, string? Token, bool Optional, bool Multiple, bool MultipleToken, IReadOnlyList<ArgSpec> Children);

/// <summary>A command or subcommand ("config|get") MiniRedis serves, with the words that start it and its arguments.</summary>
/// <param name="MayChangeState">Writes data (the "write" flag) or changes the connection (SELECT, MULTI, HELLO...): after a different reply the two servers may no longer agree.</param>
public sealed record CommandSpec(string Name, IReadOnlyList<string> Words, IReadOnlyList<ArgSpec> Arguments, bool MayChangeState);

/// <summary>
/// The commands to fuzz, read from MiniRedis's own COMMAND DOCS (which lists only the commands and
/// subcommands it serves, each with Redis 7.0's argument tree): the generator follows the same
/// metadata a client would, so a command added to the table is fuzzed without touching the fuzzer.
/// </summary>
public static class CommandSpecs
{
    public static List<CommandSpec> Read(RespConnection connection)
    {
        connection.Send(RespConnection.EncodeCommand([.. "COMMAND DOCS".Split(' ').Select(Encoding.ASCII.GetBytes)]));
        var docs = connection.ReadReply();
        connection.Send(RespConnection.EncodeCommand(["COMMAND"u8.ToArray()]));
        var writes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var info in connection.ReadReply().Children) AddWrites(info, writes);
        var specs = new List<CommandSpec>();
        AddAll(docs, writes, specs);
        return specs;
    }

    /// <summary>Commands that change the connection's state without the write flag.</summary>
    static readonly HashSet<string> ConnectionState = ["select", "multi", "exec", "discard", "watch", "unwatch", "hello", "reset", "auth", "client|setname", "client|no-evict", "config|set"];

    /// <summary>COMMAND's entries: name, arity, flags, ..., subcommands (index 9).</summary>
    static void AddWrites(RespNode info, HashSet<string> writes)
    {
        var name = Text(info.Children[0]).ToLowerInvariant();
        if (info.Children[2].Children.Any(flag => Text(flag) == "write") || ConnectionState.Contains(name)) writes.Add(name);
        if (info.Children.Count > 9) foreach (var sub in info.Children[9].Children) AddWrites(sub, writes);
    }

    /// <summary>Every top-level command name ("COMMAND LIST"), lowercase.</summary>
    public static HashSet<string> Names(RespConnection connection)
    {
        connection.Send(RespConnection.EncodeCommand([.. "COMMAND LIST".Split(' ').Select(Encoding.ASCII.GetBytes)]));
        return connection.ReadReply().Children.Select(n => Text(n).ToLowerInvariant()).ToHashSet();
    }

    static void AddAll(RespNode namesAndDocs, HashSet<string> writes, List<CommandSpec> specs)
    {
        var items = namesAndDocs.Children;
        for (int i = 0; i + 1 < items.Count; i += 2)
        {
            string name = Text(items[i]).ToLowerInvariant();
            var doc = Fields(items[i + 1]);
            // A container is fuzzed alone too (COMMAND lists, CONFIG answers arity or unknown-subcommand errors).
            if (doc.TryGetValue("subcommands", out var subs)) AddAll(subs, writes, specs);
            specs.Add(new CommandSpec(name, name.Split('|'), doc.TryGetValue("arguments", out var args) ? args.Children.Select(Arg).ToList() : [], writes.Contains(name)));
        }
    }

    static ArgSpec Arg(RespNode node)
    {
        var fields = Fields(node);
        var flags = fields.TryGetValue("flags", out var f) ? f.Children.Select(Text).ToHashSet() : [];
        return new ArgSpec(
            Text(fields["name"]),
            Text(fields["type"]),
            fields.TryGetValue("token", out var token) ? Text(token) : null,
            flags.Contains("optional"),
            flags.Contains("multiple"),
            flags.Contains("multiple_token"),
            fields.TryGetValue("arguments", out var children) ? children.Children.Select(Arg).ToList() : []);
    }

    /// <summary>A RESP2 flat array or RESP3 map of name/value pairs, by name.</summary>
    static Dictionary<string, RespNode> Fields(RespNode node)
    {
        var fields = new Dictionary<string, RespNode>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < node.Children.Count; i += 2) fields[Text(node.Children[i])] = node.Children[i + 1];
        return fields;
    }

    /// <summary>The payload of a bulk or simple string reply.</summary>
    public static string Text(RespNode node) => Encoding.Latin1.GetString(Payload(node));

    public static ReadOnlySpan<byte> Payload(RespNode node)
    {
        var raw = node.Raw.AsSpan();
        int headerEnd = raw.IndexOf("\r\n"u8);
        if (node.Type is not ((byte)'$' or (byte)'=' or (byte)'!')) return raw[1..headerEnd];
        return raw[1] == (byte)'-' ? [] : raw[(headerEnd + 2)..^2];
    }
}
