namespace MiniRedis.Config;

// Temporary: replaced by the directive table from the config branch.
public sealed class ServerConfig
{
    public int Port { get; set; } = 6379;
    public string[] Bind { get; set; } = ["127.0.0.1", "-::1"];
    public bool ProtectedMode { get; set; } = true;
    public int Databases { get; set; } = 16;
    public int Hz { get; set; } = 10;
    public long ProtoMaxBulkLen { get; set; } = 512L * 1024 * 1024;
    public long ClientQueryBufferLimit { get; set; } = 1024L * 1024 * 1024;
    public int MaxClients { get; set; } = 10000;
    public int Timeout { get; set; }
    public string RequirePass { get; set; } = "";
    public string Dir { get; set; } = ".";
    public int TcpBacklog { get; set; } = 511;
    public int TcpKeepAlive { get; set; } = 300;
}
