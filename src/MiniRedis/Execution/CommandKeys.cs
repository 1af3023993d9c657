using System.Text;
using MiniRedis.Data;
using MiniRedis.Execution.Resp;
using MiniRedis.Protocol;

namespace MiniRedis.Execution;

/// <summary>
/// Which arguments of a command line are keys (Redis's db.c getKeysFromCommand family): from the key
/// specs of Redis's COMMAND INFO, else the command's key callback. COMMAND GETKEYS, the ACL key checks
/// and client-side caching ask here.
/// </summary>
public static class CommandKeys
{
    /// <summary>
    /// Redis's getKeysFromCommandWithSpecs: the positions (in <paramref name="line"/>, 0 = the command's
    /// name) and key-spec flags of every key the command line names. COMMAND GETKEYS and the ACL key
    /// checks both ask here.
    /// </summary>
    public static void FindKeys(CommandDef def, ArgVector line, List<(int Position, string[] Flags)> keys)
    {
        if (KeysFromSpecs(line, def.Info.Items![8].Items!, keys)) return;
        keys.Clear();
        KeysFromCallback(line, def, keys);
    }

    /// <summary>Redis's doesCommandHaveKeys: a keys callback (movable keys) or a spec not marked not_key.</summary>
    public static bool HasKeys(CommandDef def)
    {
        if ((def.Flags & CommandFlags.MovableKeys) != 0) return true;
        foreach (var spec in def.Info.Items![8].Items!)
        {
            if (!HasFlag(Field(spec, "flags")!, "not_key")) return true;
        }
        return false;
    }

    /// <summary>
    /// Redis's getKeysUsingKeySpecs over the key specs of Redis's own COMMAND INFO. Positions are
    /// relative to the command line (0 = its name). Returns false for an invalid or incomplete
    /// spec: Redis then asks the command's own key callback (<see cref="KeysFromCallback"/>).
    /// </summary>
    static bool KeysFromSpecs(ArgVector line, RespValue[] specs, List<(int, string[])> keys)
    {
        int argc = line.Count;
        foreach (var spec in specs)
        {
            var flagsValue = Field(spec, "flags")!;
            if (HasFlag(flagsValue, "not_key")) continue;
            var flags = HasFlag(flagsValue, "variable_flags") && VariableKeyFlags(line) is { } variable ? variable : flagsValue.Items!.Select(f => f.Text!).ToArray();
            var begin = Field(spec, "begin_search")!;
            var beginSpec = Field(begin, "spec")!;
            int first = 0;
            switch (Field(begin, "type")!.Text)
            {
                case "index":
                    first = (int)Field(beginSpec, "index")!.Number;
                    break;
                case "keyword":
                    first = FindKeyword(line, Field(beginSpec, "keyword")!.Text!, (int)Field(beginSpec, "startfrom")!.Number);
                    if (first == 0) continue;
                    break;
                default:
                    return false;
            }
            var find = Field(spec, "find_keys")!;
            var findSpec = Field(find, "spec")!;
            int last, step;
            switch (Field(find, "type")!.Text)
            {
                case "range":
                    step = (int)Field(findSpec, "keystep")!.Number;
                    int lastKey = (int)Field(findSpec, "lastkey")!.Number;
                    int limit = (int)Field(findSpec, "limit")!.Number;
                    last = lastKey >= 0 ? first + lastKey : limit == 0 ? argc + lastKey : first + ((argc - first) / limit + lastKey);
                    break;
                case "keynum":
                    step = (int)Field(findSpec, "keystep")!.Number;
                    int numIndex = first + (int)Field(findSpec, "keynumidx")!.Number;
                    if (numIndex >= argc || !RedisNumbers.TryParseInt64(line[numIndex], out long count) || count < 0) return false;
                    first += (int)Field(findSpec, "firstkey")!.Number;
                    last = (int)Math.Min(int.MaxValue, first + count - 1);
                    break;
                default:
                    return false;
            }
            if (last >= argc || last < first || first >= argc) return false;
            for (int i = first; i <= last; i += step) keys.Add((i, flags));
            if (HasFlag(flagsValue, "incomplete")) return false;
        }
        return true;
    }

    static readonly string[] SortKeyFlags = ["RO", "access"];
    static readonly string[] StoreKeyFlags = ["OW", "update"];

    /// <summary>
    /// Where Redis's genericGetKeys callers find their keys: the store key (0: none), numkeys, the first key.
    /// </summary>
    static readonly Dictionary<string, (int Store, int Count, int First)> NumkeysCallbacks = new()
    {
        ["zunion"] = (0, 1, 2), ["zinter"] = (0, 1, 2), ["zdiff"] = (0, 1, 2),
        ["zunionstore"] = (1, 2, 3), ["zinterstore"] = (1, 2, 3), ["zdiffstore"] = (1, 2, 3),
        ["lmpop"] = (0, 1, 2), ["zmpop"] = (0, 1, 2), ["sintercard"] = (0, 1, 2), ["zintercard"] = (0, 1, 2),
        ["blmpop"] = (0, 2, 3), ["bzmpop"] = (0, 2, 3),
        ["eval"] = (0, 2, 3), ["evalsha"] = (0, 2, 3), ["eval_ro"] = (0, 2, 3), ["evalsha_ro"] = (0, 2, 3),
    };

    /// <summary>
    /// The keys of a command line that ran (client-side caching remembers a read command's keys):
    /// the command's first/last/step key range, or for numkeys commands genericGetKeys's layout.
    /// </summary>
    public static IEnumerable<int> KeyPositions(CommandDef def, ArgVector args)
    {
        if (def.FirstKey > 0)
        {
            int last = def.LastKey < 0 ? args.Count + def.LastKey : Math.Min(def.LastKey, args.Count - 1);
            for (int i = def.FirstKey; i <= last; i += Math.Max(1, def.KeyStep)) yield return i;
        }
        else if (NumkeysCallbacks.TryGetValue(def.Name, out var layout))
        {
            int count = RedisNumbers.CAtoi(args[layout.Count]);
            if (count < 1 || count > args.Count - layout.First) yield break;
            for (int i = 0; i < count; i++) yield return layout.First + i;
            if (layout.Store > 0) yield return layout.Store;
        }
    }

    /// <summary>
    /// Redis's getkeys_proc, asked when a key spec is invalid or incomplete: SORT's (sortGetKeys: the
    /// sorted key and the last STORE key), SORT_RO's (the sorted key), and genericGetKeys for the
    /// numkeys commands. That one reads numkeys with atoi, so "1e308" or "2abc" still name keys where
    /// the spec's strict parse failed; its keys carry no flags.
    /// </summary>
    static void KeysFromCallback(ArgVector line, CommandDef def, List<(int, string[])> keys)
    {
        if (NumkeysCallbacks.TryGetValue(def.Name, out var layout))
        {
            int count = RedisNumbers.CAtoi(line[layout.Count]);
            if (count < 1 || count > (line.Count - layout.First)) return;
            for (int i = 0; i < count; i++) keys.Add((layout.First + i, []));
            if (layout.Store > 0) keys.Add((layout.Store, []));
            return;
        }
        if (def.Name is not ("sort" or "sort_ro")) return;
        keys.Add((1, SortKeyFlags));
        if (def.Name == "sort_ro") return;
        int argc = line.Count;
        int store = 0;
        // As sortGetKeys: LIMIT, GET and BY skip their arguments; any other word is taken alone.
        for (int i = 2; i < argc; i++)
        {
            var word = line[i];
            if (Ascii.EqualsIgnoreCase(word, "LIMIT"u8)) i += 2;
            else if (Ascii.EqualsIgnoreCase(word, "GET"u8) || Ascii.EqualsIgnoreCase(word, "BY"u8)) i++;
            else if (Ascii.EqualsIgnoreCase(word, "STORE"u8) && i + 1 < argc) store = i + 1;
        }
        if (store > 0) keys.Add((store, StoreKeyFlags));
    }

    /// <summary>
    /// A key spec marked variable_flags: Redis takes the flags from the command's key callback, which
    /// reads the arguments (SET: whether GET reads the old value; BITFIELD: whether any subcommand writes).
    /// </summary>
    static string[]? VariableKeyFlags(ArgVector line)
    {
        if (Ascii.EqualsIgnoreCase(line[0], "SET"u8)) return SetKeyFlags(line);
        if (Ascii.EqualsIgnoreCase(line[0], "BITFIELD"u8)) return BitfieldKeyFlags(line);
        return null;
    }

    static string[] SetKeyFlags(ArgVector line)
    {
        for (int i = 3; i < line.Count; i++)
        {
            if (Ascii.EqualsIgnoreCase(line[i], "GET"u8)) return ["RW", "access", "update"];
        }
        return ["OW", "update"];
    }

    /// <summary>Redis's bitfieldGetKeys: read-only while every subcommand is a complete GET or OVERFLOW (a syntax error counts as a write).</summary>
    static string[] BitfieldKeyFlags(ArgVector line)
    {
        for (int i = 2; i < line.Count; i++)
        {
            int remaining = line.Count - i - 1;
            if (Ascii.EqualsIgnoreCase(line[i], "GET"u8) && remaining >= 2) i += 2;
            else if (Ascii.EqualsIgnoreCase(line[i], "OVERFLOW"u8) && remaining >= 1) i += 1;
            else return ["RW", "access", "update"];
        }
        return ["RO", "access"];
    }

    static int FindKeyword(ArgVector line, string keyword, int startFrom)
    {
        int argc = line.Count;
        int start = startFrom > 0 ? startFrom : argc + startFrom;
        int end = startFrom > 0 ? argc - 1 : 1;
        for (int i = start; i != end; i = start <= end ? i + 1 : i - 1)
        {
            if (i >= argc || i < 1) break;
            if (Ascii.EqualsIgnoreCase(line[i], Encoding.ASCII.GetBytes(keyword))) return i + 1;
        }
        return 0;
    }

    static bool HasFlag(RespValue flags, string flag) => flags.Items!.Any(f => string.Equals(f.Text, flag, StringComparison.OrdinalIgnoreCase));

    /// <summary>A field of a metadata map (stored as RESP3 key/value pairs).</summary>
    static RespValue? Field(RespValue map, string name)
    {
        var items = map.Items!;
        for (int i = 0; i + 1 < items.Length; i += 2)
        {
            if (items[i].Text == name) return items[i + 1];
        }
        return null;
    }
}
