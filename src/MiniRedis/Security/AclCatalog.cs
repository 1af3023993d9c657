namespace MiniRedis.Security;

/// <summary>
/// What ACL rules name: Redis 7.0's command categories, and every Redis 7.0 command and subcommand
/// (served here or not, so rules and ACL CAT read as Redis's) with its id (its bit in a selector) and
/// categories, as the command table's COMMAND INFO metadata gives them (CommandTable.CreateAclCatalog,
/// which also gives each served command its id). Like Redis's orig_commands, renaming a command changes
/// nothing here.
/// </summary>
public sealed class AclCatalog
{
    /// <summary>Redis 7.0's ACLCommandCategories, in its order (ACL CAT, and the order rules are described in).</summary>
    public static readonly string[] Categories =
    [
        "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo",
        "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting",
    ];

    /// <summary>One command or subcommand.</summary>
    public sealed class Entry(int id, string name, ulong categories, Entry? parent)
    {
        public int Id { get; } = id;
        /// <summary>Lowercase, "parent|sub" for a subcommand (Redis's fullname).</summary>
        public string Name { get; } = name;
        public ulong Categories { get; } = categories;
        public Entry? Parent { get; } = parent;
        public List<Entry> Children { get; } = [];
    }

    readonly Dictionary<string, Entry> _byName = new(StringComparer.OrdinalIgnoreCase);
    readonly List<Entry> _all = [];
    readonly List<Entry> _topLevel = [];

    /// <param name="commands">Every command and subcommand ("config|get"), parents before their subcommands, with its categories as COMMAND INFO lists them ("@read").</param>
    public AclCatalog(IEnumerable<(string Name, IEnumerable<string> Categories)> commands)
    {
        foreach (var (name, categoryNames) in commands)
        {
            ulong categories = 0;
            foreach (var category in categoryNames) categories |= CategoryFlag(category.AsSpan(1));
            int bar = name.IndexOf('|', StringComparison.Ordinal);
            var parent = bar < 0 ? null : _byName[name[..bar]];
            var entry = new Entry(_all.Count, name.ToLowerInvariant(), categories, parent);
            _all.Add(entry);
            _byName[name] = entry;
            if (parent is null) _topLevel.Add(entry);
            else parent.Children.Add(entry);
        }
    }

    /// <summary>Commands and subcommands; the selector bit after the last is Redis's "future commands" bit.</summary>
    public int Count => _all.Count;
    public IReadOnlyList<Entry> TopLevel => _topLevel;
    public Entry this[int id] => _all[id];

    /// <summary>Redis's lookupCommandBySds over the original table: "get" or "config|get"; null for anything else.</summary>
    public Entry? Find(string fullName)
    {
        int bar = fullName.IndexOf('|', StringComparison.Ordinal);
        if (bar >= 0 && fullName.IndexOf('|', bar + 1) >= 0) return null;
        if (!_byName.TryGetValue(fullName, out var entry)) return null;
        return entry;
    }

    /// <summary>The category's bit, 0 when Redis 7.0 has no such category.</summary>
    public static ulong CategoryFlag(ReadOnlySpan<char> name)
    {
        for (int i = 0; i < Categories.Length; i++)
        {
            if (name.Equals(Categories[i], StringComparison.OrdinalIgnoreCase)) return 1UL << i;
        }
        return 0;
    }

    /// <summary>Every command and subcommand in the category, parents before their subcommands (ACL CAT).</summary>
    public IEnumerable<Entry> InCategory(ulong flag) => _all.Where(e => (e.Categories & flag) != 0);
}
