using MiniRedis.Persistence.Aof;

// miniredis-check-aof [--fix [--yes]] <file.aof>: redis-check-aof's verdicts for a single AOF file;
// --fix cuts the file after its last valid command, keeping the original as <file>.bak.
bool fix = false, yes = false;
string? path = null;
foreach (var arg in args)
{
    if (arg == "--fix") fix = true;
    else if (arg == "--yes") yes = true;
    else if (path is null && !arg.StartsWith("--", StringComparison.Ordinal)) path = arg;
    else path = null;
}
if (path is null || (yes && !fix))
{
    Console.Error.WriteLine("Usage: miniredis-check-aof [--fix [--yes]] <file.aof>");
    return 1;
}

AofCheckResult result;
try
{
    result = AofChecker.Check(path);
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException)
{
    Console.WriteLine($"Cannot open file {path}: {e.Message}, aborting...");
    return 1;
}

string name = Path.GetFileName(path);
var (report, exitCode) = AofChecker.Describe(name, result);
Console.Write(report);
if (exitCode == 0 || result.PreambleInvalid) return exitCode;
if (!fix)
{
    Console.WriteLine($"AOF {name} is not valid. Use the --fix option to try fixing it.");
    return 1;
}

Console.WriteLine($"This will shrink the AOF {name} from {result.Size} bytes, with {result.Size - result.ValidUpTo} bytes, to {result.ValidUpTo} bytes");
if (!yes)
{
    Console.Write("Continue? [y/N]: ");
    var answer = Console.ReadLine();
    if (answer is null || !answer.StartsWith('y') && !answer.StartsWith('Y'))
    {
        Console.WriteLine("Aborting...");
        return 1;
    }
}
File.Copy(path, path + ".bak", overwrite: true);
using (var file = new FileStream(path, FileMode.Open, FileAccess.Write)) file.SetLength(result.ValidUpTo);
Console.WriteLine($"Successfully truncated AOF {name} (original kept as {name}.bak)");
return 0;
