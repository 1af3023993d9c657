using System.Text;
using MiniRedis.Data;

namespace MiniRedis.Security;

/// <summary>Why an ACL rule was refused (Redis's errno values in ACLSetUser), with Redis's texts.</summary>
public enum AclRuleError
{
    None,
    Syntax,
    UnknownCommand,
    KeyAfterAllKeys,
    ChannelAfterAllChannels,
    NoSuchPassword,
    BadHash,
    FirstArgOfSubcommand,
    DuplicateUser,
}

/// <summary>
/// A set of permissions (Redis's aclSelector): the commands allowed (one bit per command and
/// subcommand, plus Redis's reserved bit for commands added later, set only by +@all), first
/// arguments allowed for otherwise denied commands (+select|0), key patterns with read/write
/// permissions, and channel patterns. A user has a root selector and any number of others.
/// </summary>
public sealed class AclSelector
{
    public const int Read = 1, Write = 2, ReadWrite = Read | Write;

    public readonly record struct KeyPattern(byte[] Pattern, int Flags);

    readonly AclCatalog _catalog;
    readonly ulong[] _allowed;
    Dictionary<int, List<string>>? _firstArgs;

    public AclSelector(AclCatalog catalog, bool allChannels)
    {
        _catalog = catalog;
        _allowed = new ulong[(catalog.Count + 1 + 63) / 64];
        AllChannels = allChannels;
    }

    /// <summary>Redis's SELECTOR_FLAG_ALLCOMMANDS: set by +@all, cleared as soon as any bit is cleared.</summary>
    public bool AllCommands { get; private set; }
    public bool AllKeys { get; private set; }
    public bool AllChannels { get; private set; }
    public List<KeyPattern> Patterns { get; } = [];
    public List<byte[]> Channels { get; } = [];

    int FutureBit => _catalog.Count;

    public AclSelector Clone()
    {
        var copy = new AclSelector(_catalog, AllChannels) { AllCommands = AllCommands, AllKeys = AllKeys };
        _allowed.CopyTo(copy._allowed, 0);
        copy.Patterns.AddRange(Patterns);
        copy.Channels.AddRange(Channels);
        if (_firstArgs is not null) copy._firstArgs = _firstArgs.ToDictionary(p => p.Key, p => new List<string>(p.Value));
        return copy;
    }

    public bool Allows(int id) => (_allowed[id >> 6] & (1UL << (id & 63))) != 0;

    /// <summary>ACLSelectorCanExecuteFutureCommands: described as starting from +@all rather than -@all.</summary>
    public bool AllowsFutureCommands => Allows(FutureBit);

    void SetBit(int id, bool value)
    {
        if (value) _allowed[id >> 6] |= 1UL << (id & 63);
        else
        {
            _allowed[id >> 6] &= ~(1UL << (id & 63));
            AllCommands = false;
        }
    }

    /// <summary>ACLChangeSelectorPerm: a command and all its subcommands.</summary>
    void ChangePermission(AclCatalog.Entry entry, bool allow)
    {
        SetBit(entry.Id, allow);
        _firstArgs?.Remove(entry.Id);
        foreach (var child in entry.Children) SetBit(child.Id, allow);
    }

    void ChangeCategory(ulong flag, bool allow)
    {
        foreach (var top in _catalog.TopLevel)
        {
            if ((top.Categories & flag) != 0) ChangePermission(top, allow);
            foreach (var child in top.Children)
            {
                if ((child.Categories & flag) != 0) ChangePermission(child, allow);
            }
        }
    }

    void SetAllCommands(bool allow)
    {
        Array.Fill(_allowed, allow ? ulong.MaxValue : 0);
        AllCommands = allow;
        _firstArgs = null;
    }

    /// <summary>Redis's ACLSetSelector: applies one key, channel or command rule.</summary>
    public AclRuleError Apply(ReadOnlySpan<byte> op)
    {
        if (Is(op, "allkeys") || Is(op, "~*"))
        {
            AllKeys = true;
            Patterns.Clear();
        }
        else if (Is(op, "resetkeys"))
        {
            AllKeys = false;
            Patterns.Clear();
        }
        else if (Is(op, "allchannels") || Is(op, "&*"))
        {
            AllChannels = true;
            Channels.Clear();
        }
        else if (Is(op, "resetchannels"))
        {
            AllChannels = false;
            Channels.Clear();
        }
        else if (Is(op, "allcommands") || Is(op, "+@all")) SetAllCommands(true);
        else if (Is(op, "nocommands") || Is(op, "-@all")) SetAllCommands(false);
        else if (op.Length > 0 && op[0] is (byte)'~' or (byte)'%') return AddKeyPattern(op);
        else if (op.Length > 0 && op[0] == '&')
        {
            if (AllChannels) return AclRuleError.ChannelAfterAllChannels;
            if (HasSpaces(op[1..])) return AclRuleError.Syntax;
            var pattern = op[1..].ToArray();
            if (!Channels.Any(c => c.AsSpan().SequenceEqual(pattern))) Channels.Add(pattern);
            AllChannels = false;
        }
        else if (op.Length > 1 && op[0] is (byte)'+' or (byte)'-' && op[1] == '@')
        {
            ulong flag = AclCatalog.CategoryFlag(Encoding.Latin1.GetString(op[2..]));
            if (flag == 0 || op.Length == 2) return AclRuleError.UnknownCommand;
            ChangeCategory(flag, op[0] == '+');
        }
        else if (op.Length > 0 && op[0] == '+') return AllowCommand(Encoding.Latin1.GetString(op[1..]));
        else if (op.Length > 0 && op[0] == '-')
        {
            if (_catalog.Find(Encoding.Latin1.GetString(op[1..])) is not { } entry) return AclRuleError.UnknownCommand;
            ChangePermission(entry, false);
        }
        else return AclRuleError.Syntax;
        return AclRuleError.None;
    }

    AclRuleError AllowCommand(string name)
    {
        int bar = name.LastIndexOf('|');
        if (bar < 0)
        {
            if (_catalog.Find(name) is not { } entry) return AclRuleError.UnknownCommand;
            ChangePermission(entry, true);
            return AclRuleError.None;
        }
        string sub = name[(bar + 1)..];
        if (_catalog.Find(name[..bar]) is not { } command) return AclRuleError.UnknownCommand;
        if (command.Parent is not null) return AclRuleError.FirstArgOfSubcommand;
        if (sub.Length == 0) return AclRuleError.Syntax;
        if (command.Children.Count > 0)
        {
            if (_catalog.Find(name) is not { } subcommand) return AclRuleError.UnknownCommand;
            ChangePermission(subcommand, true);
            return AclRuleError.None;
        }
        // +select|0: Redis's deprecated first-argument rule for a command without subcommands.
        _firstArgs ??= [];
        if (!_firstArgs.TryGetValue(command.Id, out var args)) _firstArgs[command.Id] = args = [];
        if (!args.Contains(sub, StringComparer.OrdinalIgnoreCase)) args.Add(sub);
        return AclRuleError.None;
    }

    AclRuleError AddKeyPattern(ReadOnlySpan<byte> op)
    {
        if (AllKeys) return AclRuleError.KeyAfterAllKeys;
        int flags = 0;
        int offset = 1;
        if (op[0] == '%')
        {
            for (; offset < op.Length; offset++)
            {
                byte c = (byte)char.ToUpperInvariant((char)op[offset]);
                if (c == 'R' && (flags & Read) == 0) flags |= Read;
                else if (c == 'W' && (flags & Write) == 0) flags |= Write;
                else if (op[offset] == '~' && flags != 0)
                {
                    offset++;
                    break;
                }
                else return AclRuleError.Syntax;
            }
        }
        else flags = ReadWrite;
        if (HasSpaces(op[offset..])) return AclRuleError.Syntax;
        var pattern = op[offset..].ToArray();
        int existing = Patterns.FindIndex(p => p.Pattern.AsSpan().SequenceEqual(pattern));
        if (existing < 0) Patterns.Add(new KeyPattern(pattern, flags));
        else Patterns[existing] = Patterns[existing] with { Flags = Patterns[existing].Flags | flags };
        AllKeys = false;
        return AclRuleError.None;
    }

    internal static bool Is(ReadOnlySpan<byte> op, string word) => Ascii.EqualsIgnoreCase(op, word);

    /// <summary>Redis's ACLStringHasSpaces: whitespace or NUL.</summary>
    internal static bool HasSpaces(ReadOnlySpan<byte> s)
    {
        foreach (var b in s)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r' or 0) return true;
        }
        return false;
    }

    // ---- Checks -------------------------------------------------------------------------------

    /// <summary>The command bit, or an allowed first argument (<paramref name="firstArg"/>: the argument after the command's name).</summary>
    public bool AllowsCommand(int id, ReadOnlySpan<byte> firstArg, bool hasFirstArg)
    {
        if (AllCommands || Allows(id)) return true;
        if (!hasFirstArg || _firstArgs is null || !_firstArgs.TryGetValue(id, out var args)) return false;
        foreach (var arg in args)
        {
            if (Ascii.EqualsIgnoreCase(firstArg, arg)) return true;
        }
        return false;
    }

    /// <summary>ACLSelectorCheckKey: a pattern with every permission the key's access needs matches it.</summary>
    public bool AllowsKey(ReadOnlySpan<byte> key, int needed)
    {
        if (AllKeys) return true;
        foreach (var pattern in Patterns)
        {
            if ((pattern.Flags & needed) != needed) continue;
            if (GlobPattern.Match(pattern.Pattern, key, ignoreCase: false)) return true;
        }
        return false;
    }

    /// <summary>ACLCheckChannelAgainstList: a channel matches the patterns; a subscribed pattern must equal one literally.</summary>
    public bool AllowsChannel(ReadOnlySpan<byte> channel, bool isPattern)
    {
        if (AllChannels) return true;
        foreach (var allowed in Channels)
        {
            if (isPattern ? allowed.AsSpan().SequenceEqual(channel) : GlobPattern.Match(allowed, channel, ignoreCase: false)) return true;
        }
        return false;
    }

    // ---- Description --------------------------------------------------------------------------

    /// <summary>Redis's ACLDescribeSelector: keys, channels, then the command rules.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        if (AllKeys) text.Append("~* ");
        else
        {
            foreach (var pattern in Patterns) text.Append(PatternText(pattern)).Append(' ');
        }
        if (AllChannels) text.Append("&* ");
        else
        {
            text.Append("resetchannels ");
            foreach (var channel in Channels) text.Append('&').Append(Encoding.Latin1.GetString(channel)).Append(' ');
        }
        return text.Append(DescribeCommands()).ToString();
    }

    public string KeysText() => AllKeys ? "~*" : string.Join(' ', Patterns.Select(PatternText));

    public string ChannelsText() => AllChannels ? "&*" : string.Join(' ', Channels.Select(c => "&" + Encoding.Latin1.GetString(c)));

    static string PatternText(KeyPattern pattern) => pattern.Flags switch
    {
        ReadWrite => "~",
        Read => "%R~",
        _ => "%W~",
    } + Encoding.Latin1.GetString(pattern.Pattern);

    /// <summary>
    /// Redis 7.0's ACLDescribeSelectorCommandRules: +@all or -@all, then the categories that best
    /// approximate the bitmap (each round the unapplied one with more commands matching than not,
    /// fewest differences first), then the single commands and subcommands still different, then
    /// the first-argument rules of denied commands. The single commands come in catalog order;
    /// Redis lists them in its command table's hash order, which changes with every process.
    /// </summary>
    public string DescribeCommands()
    {
        bool additive = !AllowsFutureCommands;
        var rules = new StringBuilder(additive ? "-@all " : "+@all ");
        var fake = new AclSelector(_catalog, false);
        fake.SetAllCommands(!additive);
        var temp = new AclSelector(_catalog, false);
        _allowed.CopyTo(temp._allowed, 0);
        var applied = new bool[Categories.Length];
        while (true)
        {
            int best = -1;
            long minDiff = int.MaxValue, maxSame = 0;
            for (int j = 0; j < Categories.Length; j++)
            {
                if (applied[j]) continue;
                var (on, off) = temp.CountCategory(1UL << j);
                long diff = additive ? off : on, same = additive ? on : off;
                if (same > diff && (diff < minDiff || (diff == minDiff && same > maxSame)))
                {
                    best = j;
                    minDiff = diff;
                    maxSame = same;
                }
            }
            if (best == -1) break;
            fake.ChangeCategory(1UL << best, additive);
            temp.ChangeCategory(1UL << best, !additive);
            rules.Append(additive ? "+@" : "-@").Append(Categories[best]).Append(' ');
            applied[best] = true;
        }
        foreach (var command in _catalog.TopLevel)
        {
            bool mine = Allows(command.Id);
            if (mine != fake.Allows(command.Id))
            {
                rules.Append(mine ? '+' : '-').Append(command.Name).Append(' ');
                fake.ChangePermission(command, mine);
            }
            foreach (var sub in command.Children)
            {
                bool subMine = Allows(sub.Id);
                if (subMine == fake.Allows(sub.Id)) continue;
                rules.Append(subMine ? '+' : '-').Append(sub.Name).Append(' ');
                fake.SetBit(sub.Id, subMine);
            }
            if (!mine && _firstArgs is not null && _firstArgs.TryGetValue(command.Id, out var args))
            {
                foreach (var arg in args) rules.Append('+').Append(command.Name).Append('|').Append(arg).Append(' ');
            }
        }
        rules.Length--;
        return rules.ToString();
    }

    static string[] Categories => AclCatalog.Categories;

    (long On, long Off) CountCategory(ulong flag)
    {
        long on = 0, off = 0;
        foreach (var entry in _catalog.InCategory(flag))
        {
            if (Allows(entry.Id)) on++;
            else off++;
        }
        return (on, off);
    }
}
