using System.Security.Cryptography;
using System.Text;
using MiniRedis.Protocol;

namespace MiniRedis.Security;

/// <summary>
/// An ACL user (Redis's user struct): enabled or not, passwords as SHA-256 hex, nopass, the payload
/// sanitization flags, and its selectors (the root one first). Sessions point at their user; a
/// change to a user is seen by all of them at their next command.
/// </summary>
public sealed class AclUser
{
    readonly AclCatalog _catalog;

    public AclUser(string name, AclCatalog catalog, bool pubsubAllChannels)
    {
        Name = name;
        _catalog = catalog;
        Selectors.Add(new AclSelector(catalog, pubsubAllChannels));
    }

    public string Name { get; }
    public bool Enabled { get; private set; }
    public bool NoPass { get; private set; }
    /// <summary>skip-sanitize-payload / sanitize-payload: null until either is given (Redis 7.0 lists neither by default).</summary>
    public bool? SanitizePayload { get; private set; }
    public List<string> Passwords { get; } = [];
    public List<AclSelector> Selectors { get; } = [];
    public AclSelector Root => Selectors[0];

    /// <summary>
    /// Every command, key and channel in the root selector: the executor skips all checks for such a
    /// user (the default user's hot path). Recomputed whenever the user's rules change.
    /// </summary>
    public bool AllowsEverything { get; private set; }

    /// <summary>Set when the user is deleted or replaced by ACL LOAD: its sessions are being closed.</summary>
    public bool Removed { get; internal set; }

    internal void Refresh() => AllowsEverything = Root.AllCommands && Root.AllKeys && Root.AllChannels;

    /// <summary>ACLCopyUser: takes <paramref name="source"/>'s rules (the name stays).</summary>
    internal void CopyFrom(AclUser source)
    {
        Enabled = source.Enabled;
        NoPass = source.NoPass;
        SanitizePayload = source.SanitizePayload;
        Passwords.Clear();
        Passwords.AddRange(source.Passwords);
        Selectors.Clear();
        Selectors.AddRange(source.Selectors.Select(s => s.Clone()));
        Refresh();
    }

    public static string HashPassword(ReadOnlySpan<byte> password) => Convert.ToHexStringLower(SHA256.HashData(password));

    /// <summary>ACLCheckUserCredentials, after the user was found: enabled, and nopass or a matching password.</summary>
    public bool CheckPassword(ReadOnlySpan<byte> password)
    {
        if (!Enabled) return false;
        if (NoPass) return true;
        var hash = Encoding.ASCII.GetBytes(HashPassword(password));
        foreach (var stored in Passwords)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, Encoding.ASCII.GetBytes(stored))) return true;
        }
        return false;
    }

    /// <summary>Redis's ACLSetUser: applies one rule; on error the user may be half-changed (callers work on a copy).</summary>
    public AclRuleError Apply(ReadOnlySpan<byte> op, bool pubsubAllChannels)
    {
        var error = ApplyRule(op, pubsubAllChannels);
        Refresh();
        return error;
    }

    AclRuleError ApplyRule(ReadOnlySpan<byte> op, bool pubsubAllChannels)
    {
        if (op.Length == 0) return AclRuleError.None;
        if (AclSelector.Is(op, "on")) Enabled = true;
        else if (AclSelector.Is(op, "off")) Enabled = false;
        else if (AclSelector.Is(op, "skip-sanitize-payload")) SanitizePayload = false;
        else if (AclSelector.Is(op, "sanitize-payload")) SanitizePayload = true;
        else if (AclSelector.Is(op, "nopass"))
        {
            NoPass = true;
            Passwords.Clear();
        }
        else if (AclSelector.Is(op, "resetpass"))
        {
            NoPass = false;
            Passwords.Clear();
        }
        else if (op[0] is (byte)'>' or (byte)'#')
        {
            string hash;
            if (op[0] == '>') hash = HashPassword(op[1..]);
            else if (!IsHash(op[1..])) return AclRuleError.BadHash;
            else hash = Encoding.ASCII.GetString(op[1..]);
            if (!Passwords.Contains(hash)) Passwords.Add(hash);
            NoPass = false;
        }
        else if (op[0] is (byte)'<' or (byte)'!')
        {
            string hash;
            if (op[0] == '<') hash = HashPassword(op[1..]);
            else if (!IsHash(op[1..])) return AclRuleError.BadHash;
            else hash = Encoding.ASCII.GetString(op[1..]);
            if (!Passwords.Remove(hash)) return AclRuleError.NoSuchPassword;
        }
        else if (op[0] == '(' && op[^1] == ')')
        {
            var selector = new AclSelector(_catalog, pubsubAllChannels);
            // As aclCreateSelectorFromOpSet: the inside is split like a config line (unbalanced quotes: no rules).
            foreach (var inner in ArgSplitter.SplitToList(op[1..^1]) ?? [])
            {
                var error = selector.Apply(inner);
                if (error != AclRuleError.None) return error;
            }
            Selectors.Add(selector);
        }
        else if (AclSelector.Is(op, "clearselectors")) Selectors.RemoveRange(1, Selectors.Count - 1);
        else if (AclSelector.Is(op, "reset"))
        {
            NoPass = false;
            Passwords.Clear();
            Root.Apply("resetkeys"u8);
            Root.Apply(pubsubAllChannels ? "allchannels"u8 : "resetchannels"u8);
            Enabled = false;
            SanitizePayload = true;
            Selectors.RemoveRange(1, Selectors.Count - 1);
            Root.Apply("-@all"u8);
        }
        else return Root.Apply(op);
        return AclRuleError.None;
    }

    /// <summary>ACLCheckPasswordHash: 64 lowercase hex digits.</summary>
    static bool IsHash(ReadOnlySpan<byte> hash)
    {
        if (hash.Length != 64) return false;
        foreach (var c in hash)
        {
            if (c is not ((>= (byte)'a' and <= (byte)'f') or (>= (byte)'0' and <= (byte)'9'))) return false;
        }
        return true;
    }

    /// <summary>The flags ACL GETUSER lists, in Redis's ACLUserFlags order.</summary>
    public IEnumerable<string> FlagNames()
    {
        yield return Enabled ? "on" : "off";
        if (NoPass) yield return "nopass";
        if (SanitizePayload == false) yield return "skip-sanitize-payload";
        if (SanitizePayload == true) yield return "sanitize-payload";
    }

    /// <summary>Redis's ACLDescribeUser: the rules after "user NAME " in ACL LIST and the ACL file.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        foreach (var flag in FlagNames()) text.Append(flag).Append(' ');
        foreach (var password in Passwords) text.Append('#').Append(password).Append(' ');
        text.Append(Root.Describe());
        for (int i = 1; i < Selectors.Count; i++) text.Append(" (").Append(Selectors[i].Describe()).Append(')');
        return text.ToString();
    }

    /// <summary>Redis's ACLSetUserStringError.</summary>
    public static string ErrorText(AclRuleError error) => error switch
    {
        AclRuleError.UnknownCommand => "Unknown command or category name in ACL",
        AclRuleError.Syntax => "Syntax error",
        AclRuleError.KeyAfterAllKeys => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
        AclRuleError.ChannelAfterAllChannels => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
        AclRuleError.NoSuchPassword => "The password you are trying to remove from the user does not exist",
        AclRuleError.BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
        AclRuleError.DuplicateUser => "Duplicate user found. A user can only be defined once in config files",
        AclRuleError.FirstArgOfSubcommand => "Allowing first-arg of a subcommand is not supported",
        _ => "Wrong format",
    };
}
