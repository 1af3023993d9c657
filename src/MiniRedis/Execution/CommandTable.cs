using System.Reflection;
using System.Text;
using MiniRedis.Execution.Resp;
using MiniRedis.Security;

namespace MiniRedis.Execution;

/// <summary>
/// The command table, as Redis's server.c: every command we serve, found by name
/// case-insensitively without allocating. Arity, flags and key positions are Redis 7.0's own,
/// read from the COMMAND / COMMAND DOCS replies of a real 7.0.15 server captured into
/// Metadata/*.resp, so COMMAND answers byte-for-byte what Redis would for the commands we have.
/// </summary>
public sealed unsafe class CommandTable
{
    readonly Dictionary<byte[], CommandDef> _commands = new(AsciiIgnoreCaseComparer.Instance);
    // Taken once: GetAlternateLookup checks the comparer's interfaces (a type cast) on every call, and Find runs for every command.
    readonly Dictionary<byte[], CommandDef>.AlternateLookup<ReadOnlySpan<byte>> _commandsByBytes;
    readonly Dictionary<string, RespValue> _redisInfo = new(StringComparer.OrdinalIgnoreCase);
    // COMMAND DOCS' entries, parsed on its first call: as a tree they are 1.5 MB of the idle server's
    // 3.3 MB heap (a larger RSS for every workload), for a command clients rarely send.
    Dictionary<string, RespValue>? _redisDocs;

    public CommandTable()
    {
        _commandsByBytes = _commands.GetAlternateLookup<ReadOnlySpan<byte>>();
        var info = Load("command-info.resp");
        foreach (var entry in info.Items!) IndexInfo(entry, null);
    }

    Dictionary<string, RespValue> RedisDocs
    {
        get
        {
            if (_redisDocs is null)
            {
                _redisDocs = new(StringComparer.OrdinalIgnoreCase);
                var docs = Load("command-docs.resp");
                for (int i = 0; i < docs.Items!.Length; i += 2) IndexDocs(_redisDocs, docs.Items[i].Text!, docs.Items[i + 1]);
            }
            return _redisDocs;
        }
    }

    public IEnumerable<CommandDef> All => _commands.Values;

    /// <summary>CONFIG RESETSTAT's resetCommandTableStats and resetErrorTableStats: every command's and subcommand's counters and histogram.</summary>
    public void ResetStats()
    {
        foreach (var def in All)
        {
            ResetCounters(def);
            if (def.Subcommands is null) continue;
            foreach (var sub in def.Subcommands.Values) ResetCounters(sub);
        }
    }

    static void ResetCounters(CommandDef def)
    {
        def.Calls = def.Microseconds = def.RejectedCalls = def.FailedCalls = 0;
        def.LatencyHistogram = null;
    }
    public int Count => _commands.Count;

    static RespValue Load(string name)
    {
        using var stream = typeof(CommandTable).Assembly.GetManifestResourceStream("MiniRedis.Execution.Metadata." + name)
            ?? throw new InvalidOperationException("missing command metadata " + name);
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        int pos = 0;
        return RespValue.Parse(memory.ToArray(), ref pos);
    }

    void IndexInfo(RespValue entry, string? parent)
    {
        string name = entry.Items![0].Text!;
        _redisInfo[name] = entry;
        foreach (var sub in entry.Items[9].Items!) IndexInfo(sub, name);
    }

    static void IndexDocs(Dictionary<string, RespValue> index, string name, RespValue docs)
    {
        index[name] = docs;
        var items = docs.Items!;
        for (int i = 0; i < items.Length; i += 2)
        {
            if (items[i].Text != "subcommands") continue;
            var subs = items[i + 1].Items!;
            for (int j = 0; j < subs.Length; j += 2) IndexDocs(index, subs[j].Text!, subs[j + 1]);
        }
    }

    /// <summary>Registers a handler for a command ("get") or subcommand ("config|get").</summary>
    public void Add(string name, delegate*<CommandContext, void> handler)
    {
        name = name.ToLowerInvariant();
        int bar = name.IndexOf('|', StringComparison.Ordinal);
        if (bar < 0)
        {
            // A container may have its own handler too (COMMAND without a subcommand).
            GetOrCreate(name).Handler = handler;
            return;
        }
        var parentDef = GetOrCreate(name[..bar]);
        parentDef.Subcommands ??= new Dictionary<string, CommandDef>(StringComparer.OrdinalIgnoreCase);
        var sub = CreateDef(name);
        sub.Handler = handler;
        sub.Parent = parentDef;
        parentDef.Subcommands[name[(bar + 1)..]] = sub;
    }

    CommandDef GetOrCreate(string name)
    {
        var key = Encoding.ASCII.GetBytes(name);
        if (!_commands.TryGetValue(key, out var def))
        {
            def = CreateDef(name);
            _commands[key] = def;
        }
        return def;
    }

    CommandDef CreateDef(string name)
    {
        if (!_redisInfo.TryGetValue(name, out var info)) throw new InvalidOperationException($"Redis 7.0 has no command '{name}'");
        var items = info.Items!;
        var flags = CommandFlags.None;
        foreach (var flag in items[2].Items!) flags |= ParseFlag(flag.Text!);
        return new CommandDef(name, (int)items[1].Number, flags, (int)items[3].Number, (int)items[4].Number, (int)items[5].Number, info);
    }

    static CommandFlags ParseFlag(string flag) => Enum.Parse<CommandFlags>(flag.Replace("_", "", StringComparison.Ordinal), ignoreCase: true);

    /// <summary>Finds a top-level command by the bytes the client sent, in any case.</summary>
    public CommandDef? Find(ReadOnlySpan<byte> name)
        => _commandsByBytes.TryGetValue(name, out var def) ? def : null;

    public CommandDef? Find(string name) => Find(Encoding.ASCII.GetBytes(name));

    /// <summary>The ACL catalog of Redis 7.0's commands (their COMMAND INFO categories); each served command and subcommand gets its id in it.</summary>
    public AclCatalog CreateAclCatalog()
    {
        var catalog = new AclCatalog(_redisInfo.Select(e => (e.Key, e.Value.Items![6].Items!.Select(category => category.Text!))));
        foreach (var def in All)
        {
            def.AclId = catalog.Find(def.Name)!.Id;
            if (def.Subcommands is null) continue;
            foreach (var sub in def.Subcommands.Values) sub.AclId = catalog.Find(sub.Name)!.Id;
        }
        return catalog;
    }

    /// <summary>Every top-level command Redis 7.0 has, served here or not (what rename-command may name).</summary>
    public IEnumerable<string> RedisCommandNames => _redisInfo.Keys.Where(name => !name.Contains('|', StringComparison.Ordinal));

    /// <summary>rename-command: the command answers to <paramref name="to"/> only; an empty name removes it.</summary>
    public void Rename(string from, string to)
    {
        if (!_commands.Remove(Encoding.ASCII.GetBytes(from), out var def) || to.Length == 0) return;
        _commands[Encoding.ASCII.GetBytes(to)] = def;
    }

    /// <summary>
    /// COMMAND INFO for a command as Redis would give it, listing only the subcommands we serve.
    /// </summary>
    public RespValue InfoOf(CommandDef def)
    {
        if (def.Subcommands is null) return def.Info;
        var items = (RespValue[])def.Info.Items!.Clone();
        items[9] = items[9].WithItems(def.Subcommands.Values.OrderBy(s => s.Name, StringComparer.Ordinal).Select(s => s.Info).ToArray());
        return def.Info.WithItems(items);
    }

    /// <summary>COMMAND DOCS for a command, listing only the subcommands we serve.</summary>
    public RespValue? DocsOf(CommandDef def)
    {
        var all = RedisDocs;
        if (!all.TryGetValue(def.Name, out var docs) || def.Subcommands is null) return docs;
        var items = (RespValue[])docs.Items!.Clone();
        for (int i = 0; i < items.Length; i += 2)
        {
            if (items[i].Text != "subcommands") continue;
            var subs = new List<RespValue>();
            foreach (var sub in def.Subcommands.Values.OrderBy(s => s.Name, StringComparer.Ordinal))
            {
                if (!all.TryGetValue(sub.Name, out var subDocs)) continue;
                subs.Add(RespValue.Bulk(sub.Name));
                subs.Add(subDocs);
            }
            items[i + 1] = items[i + 1].WithItems([.. subs]);
        }
        return docs.WithItems(items);
    }
}

/// <summary>ASCII case-insensitive equality for command names, probe-able with a span.</summary>
sealed class AsciiIgnoreCaseComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly AsciiIgnoreCaseComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => Equals(x.AsSpan(), y!);
    public int GetHashCode(byte[] obj) => GetHashCode(obj.AsSpan());
    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => System.Text.Ascii.EqualsIgnoreCase(alternate, other);

    public int GetHashCode(ReadOnlySpan<byte> alternate)
    {
        uint h = 2166136261;
        foreach (var b in alternate) h = (h ^ (uint)(b | 0x20)) * 16777619;
        return (int)h;
    }

    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}
