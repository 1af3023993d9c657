using Microsoft.Extensions.Logging;

namespace MiniRedis.Server;

/// <summary>
/// The <c>pidfile</c>: written at start with the process id and a newline, as Redis's createPidFile
/// does (a failure is only a warning), and removed at a clean exit.
/// </summary>
sealed class PidFile
{
    readonly string _path;
    readonly ILogger _logger;

    PidFile(string path, ILogger logger)
    {
        _path = path;
        _logger = logger;
    }

    /// <summary>Writes the file when a path is given; null when there is none to write or it could not be written.</summary>
    public static PidFile? Create(string? path, ILogger logger)
    {
        if (path is null) return null;
        try
        {
            File.WriteAllText(path, $"{Environment.ProcessId}\n");
            return new PidFile(path, logger);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Failed to write PID file: {Error}", e.Message);
            return null;
        }
    }

    public void Remove()
    {
        _logger.LogInformation("Removing the pid file.");
        try
        {
            File.Delete(_path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Error removing the pid file: {Error}", e.Message);
        }
    }
}
