using MiniRedis.Persistence.Rdb;

// miniredis-check-rdb <file.rdb>: redis-check-rdb's report and verdict for a dump, then the keys
// per database and type (lines Redis doesn't print, after its own).
if (args.Length != 1)
{
    Console.Error.WriteLine("Usage: miniredis-check-rdb <rdb-file-name>");
    return 1;
}
string path = args[0];
byte[] data;
try
{
    // A directory reads as an empty file, as fopen + fread see it.
    data = Directory.Exists(path) ? [] : File.ReadAllBytes(path);
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException)
{
    Console.WriteLine($"[offset 0] Checking RDB file {path}");
    Console.Error.WriteLine($"Cannot open the RDB file {path}: {e.Message}");
    return 1;
}

var result = RdbChecker.Check(data, path);
Console.Write(result.Report);
foreach (var (db, types) in result.KeysPerDbAndType)
{
    Console.WriteLine($"[info] db {db}: {types.Values.Sum()} keys ({string.Join(", ", types.Select(type => $"{type.Key} {type.Value}"))})");
}
return result.Valid ? 0 : 1;
