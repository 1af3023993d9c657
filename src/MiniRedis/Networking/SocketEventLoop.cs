using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MiniRedis.Execution;

namespace MiniRedis.Networking;

/// <summary>
/// Redis's event loop for the plain (not TLS) client sockets: one thread waits in epoll for readable
/// sockets, reads each once into its connection's pipe (whose read loop parses and queues the batches
/// right there, on this thread), and after the sockets one wait found ready runs the executor round
/// for all of them (<see cref="Executor.RunDeferred"/>), so their replies leave together, as Redis
/// writes its clients before it sleeps again. The socket engine of .NET it replaces cost, per batch, a
/// read that found nothing before each wait (its readiness is not known) and a send per client woken
/// one by one (each waking the client's process again).
/// Level-triggered: a socket with more than one read's worth is reported again by the next wait.
/// Linux on x64 only (the layout of epoll_event); elsewhere connections read through the socket engine.
/// </summary>
public sealed partial class SocketEventLoop : IDisposable
{
    const int EpollCtlAdd = 1, EpollCtlDel = 2, EpollCtlMod = 3;
    const uint EpollIn = 0x001, EpollRdHup = 0x2000;
    const int EpollCloExec = 0x80000, EventFdNonBlock = 0x800, EventFdCloExec = 0x80000;
    const int ReadSize = 16 * 1024;
    const int MaxEvents = 256;
    // The wake-up eventfd's epoll data: slot 0, which no connection takes.
    const ulong WakeId = 0;

    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_ctl(int epfd, int op, int fd, ref EpollEvent ev);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int epoll_wait(int epfd, EpollEvent* events, int maxEvents, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint write(int fd, void* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint read(int fd, void* buffer, nint count);

    [LibraryImport("libc")]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint send(int fd, byte* buffer, nint length, int flags);

    const int MsgDontWait = 0x40, MsgNoSignal = 0x4000;
    const int ErrorInterrupted = 4, ErrorAgain = 11;

    public static bool IsSupported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    readonly Executor _executor;
    readonly int _epoll;
    readonly int _wakeFd;
    readonly Thread _thread;
    // The watched sockets by slot, which the epoll data names (with the registration's id, so an event read for a
    // socket forgotten meanwhile never reaches the one that took its slot). Written under the lock, read without
    // it by the loop: a slot is set, and a grown array published, before the socket's epoll_ctl.
    Registration?[] _slots = new Registration?[64];
    readonly Stack<int> _freeSlots = new();
    int _slotsUsed = 1;
    readonly object _slotsLock = new();
    readonly byte[] _readBuffer = new byte[ReadSize];
    // Continuations of read loops coming back to this thread (ToLoopThread), run after the wake they sent.
    readonly ConcurrentQueue<Action> _arriving = new();
    ulong _nextId = 1;
    volatile bool _stopping;

    internal SocketEventLoop(Executor executor)
    {
        _executor = executor;
        _epoll = epoll_create1(EpollCloExec);
        if (_epoll < 0) throw new SocketException(Marshal.GetLastPInvokeError());
        _wakeFd = eventfd(0, EventFdNonBlock | EventFdCloExec);
        var wake = new EpollEvent { Events = EpollIn, Data = WakeId };
        if (_wakeFd < 0 || epoll_ctl(_epoll, EpollCtlAdd, _wakeFd, ref wake) != 0)
        {
            int error = Marshal.GetLastPInvokeError();
            _ = close(_epoll);
            if (_wakeFd >= 0) _ = close(_wakeFd);
            throw new SocketException(error);
        }
        _thread = new Thread(Run) { Name = "miniredis-events", IsBackground = true };
        _thread.Start();
    }

    /// <summary>
    /// Takes a read straight from the loop's buffer, without the pipe, when its owner can (its read loop
    /// waits with nothing left over, the read is whole commands): false leaves the read to the pipe.
    /// </summary>
    public interface IDirectReader
    {
        bool TryTake(ReadOnlyMemory<byte> data);
    }

    /// <summary>True on the loop's thread: a read loop resumed by the pipe runs here (inline), between the loop's reads.</summary>
    public static bool OnLoopThread => t_onLoopThread;

    [ThreadStatic]
    static bool t_onLoopThread;

    /// <summary>
    /// Awaited off the loop's thread, continues on it: a read loop that the accept thread started, or that
    /// the thread pool resumed when the executor gave a batch back, reads its pipe here again. Read from
    /// another thread, the pipe is written by the loop while that thread parses (and runs the batches it
    /// submits), and nothing bounds it: a <c>redis-cli --pipe</c> load piled up to 80 MB in it, whose
    /// buffers aged into gen2 (a hashes load's RSS 1.5× Redis's instead of 1.2×). Here the loop reads the
    /// socket again only once the read loop waits.
    /// </summary>
    public LoopThread ToLoopThread() => new(this);

    /// <summary>The awaiter of <see cref="ToLoopThread"/>; its default (no loop: a TLS client) continues where it is.</summary>
    public readonly struct LoopThread(SocketEventLoop? loop) : ICriticalNotifyCompletion
    {
        public LoopThread GetAwaiter() => this;

        public bool IsCompleted => loop is null || t_onLoopThread;

        public void GetResult()
        {
        }

        public void OnCompleted(Action continuation) => loop!.Arrive(continuation);

        public void UnsafeOnCompleted(Action continuation) => loop!.Arrive(continuation);
    }

    void Arrive(Action continuation)
    {
        _arriving.Enqueue(continuation);
        Wake();
    }

    void RunArrived()
    {
        while (_arriving.TryDequeue(out var continuation)) continuation();
    }

    /// <summary>A socket in the loop: what it reads goes to its <see cref="IDirectReader"/> or into <see cref="Reader"/>'s pipe.</summary>
    public sealed class Registration
    {
        readonly SocketEventLoop _loop;
        readonly Pipe _pipe = new(new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));

        internal Registration(SocketEventLoop loop, Socket socket, ulong id, IDirectReader? direct)
        {
            _loop = loop;
            Socket = socket;
            Id = id;
            Direct = direct;
        }

        internal Socket Socket { get; }
        internal ulong Id { get; }
        internal int Slot { get; set; }
        internal ulong EpollData => ((ulong)(uint)Id << 32) | (uint)Slot;
        internal IDirectReader? Direct { get; }
        internal PipeWriter Writer => _pipe.Writer;
        public PipeReader Reader => _pipe.Reader;

        /// <summary>The loop's <see cref="SocketEventLoop.ToLoopThread"/>.</summary>
        public LoopThread ToLoopThread() => _loop.ToLoopThread();

        /// <summary>Starts watching the socket (data already there is reported at once).</summary>
        public void Start() => _loop.Add(this);

        /// <summary>The socket is being closed: the loop forgets it (closing the descriptor takes it out of epoll).</summary>
        public void Stop() => _loop.Forget(this);

        /// <summary>Stops reading the socket (its pipe holds enough unparsed input) until <see cref="Resume"/>.</summary>
        public void Pause() => _loop.Watch(this, 0);

        /// <summary>Reads the socket again; what arrived meanwhile is reported by the next wait (level-triggered).</summary>
        public void Resume() => _loop.Watch(this, EpollIn | EpollRdHup);
    }

    /// <summary>A registration for <paramref name="socket"/>; it is watched once <see cref="Registration.Start"/> is called.</summary>
    public Registration Create(Socket socket, IDirectReader? direct = null)
    {
        lock (_slotsLock) return new Registration(this, socket, _nextId++, direct);
    }

    void Add(Registration registration)
    {
        lock (_slotsLock)
        {
            int slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : _slotsUsed++;
            if (slot == _slots.Length)
            {
                var grown = new Registration?[slot * 2];
                _slots.CopyTo(grown, 0);
                Volatile.Write(ref _slots, grown);
            }
            _slots[slot] = registration;
            registration.Slot = slot;
        }
        var ev = new EpollEvent { Events = EpollIn | EpollRdHup, Data = registration.EpollData };
        bool added = false;
        try
        {
            added = epoll_ctl(_epoll, EpollCtlAdd, (int)registration.Socket.SafeHandle.DangerousGetHandle(), ref ev) == 0;
        }
        catch (ObjectDisposedException)
        {
            // Closed before it was watched.
        }
        if (added) return;
        // A socket epoll refuses (closed meanwhile) reads as closed: its read loop ends.
        Forget(registration);
        registration.Writer.Complete();
    }

    void Watch(Registration registration, uint events)
    {
        var ev = new EpollEvent { Events = events, Data = registration.EpollData };
        try
        {
            _ = epoll_ctl(_epoll, EpollCtlMod, (int)registration.Socket.SafeHandle.DangerousGetHandle(), ref ev);
        }
        catch (ObjectDisposedException)
        {
            // Closed: out of epoll already.
        }
    }

    void Forget(Registration registration)
    {
        lock (_slotsLock)
        {
            // Twice (closed while its read failed), or before it was added: the slot is not its own.
            if (_slots[registration.Slot] != registration) return;
            _slots[registration.Slot] = null;
            _freeSlots.Push(registration.Slot);
        }
    }

    unsafe void Wake()
    {
        ulong one = 1;
        _ = write(_wakeFd, &one, sizeof(ulong));
    }

    unsafe void Run()
    {
        var events = stackalloc EpollEvent[MaxEvents];
        t_onLoopThread = true;
        while (!_stopping)
        {
            int count = epoll_wait(_epoll, events, MaxEvents, -1);
            if (count < 0) continue; // EINTR
            Executor.Defer();
            for (int i = 0; i < count; i++)
            {
                ulong data = events[i].Data;
                if (data == WakeId)
                {
                    DrainWake();
                    RunArrived();
                    continue;
                }
                var slots = Volatile.Read(ref _slots);
                uint slot = (uint)data;
                var registration = slot < (uint)slots.Length ? slots[slot] : null;
                if (registration is not null && registration.EpollData == data) Read(registration);
            }
            _executor.RunDeferred();
        }
        // Read loops still on their way here end now (their connections were closed before the loop stopped).
        RunArrived();
        _ = close(_wakeFd);
        _ = close(_epoll);
    }

    unsafe void DrainWake()
    {
        ulong value;
        _ = read(_wakeFd, &value, sizeof(ulong));
    }

    /// <summary>
    /// One read of what the socket holds, taken straight from the buffer when the connection can (a
    /// request at pipeline 1: no pipe write, no resumed read loop), else into its pipe, whose reader
    /// parses it here and now.
    /// </summary>
    void Read(Registration registration)
    {
        int n = Transfer(registration.Socket, ref MemoryMarshal.GetArrayDataReference(_readBuffer), _readBuffer.Length, receive: true, out var error);
        if (error == SocketError.WouldBlock) return;
        if (error != SocketError.Success || n == 0)
        {
            // End of stream or a failed socket: its read loop ends (the replies it owes are sent, then it closes).
            Forget(registration);
            TryRemoveFromEpoll(registration);
            registration.Writer.Complete();
            return;
        }
        var data = _readBuffer.AsMemory(0, n);
        if (registration.Direct?.TryTake(data) == true) return;
        var flush = registration.Writer.WriteAsync(data);
        // Never paused (no writer threshold): the write completed, and the reader ran inline.
        if (!flush.IsCompleted) _ = flush.AsTask();
    }

    /// <summary>
    /// A non-blocking send of what <paramref name="data"/> the socket takes now (a reply at the end of a round), as
    /// <see cref="Socket.Send(ReadOnlySpan{byte}, SocketFlags, out SocketError)"/> does it but straight to the system
    /// call: the socket engine's layers around it were a tenth of the user time a request at pipeline 1 costs.
    /// </summary>
    internal static int Send(Socket socket, ReadOnlySpan<byte> data, out SocketError error)
        => Transfer(socket, ref MemoryMarshal.GetReference(data), data.Length, receive: false, out error);

    /// <summary>
    /// One recv or send on the socket's descriptor, non-blocking. The handle is held meanwhile, as the socket
    /// engine holds it: a connection closed on another thread cannot hand its descriptor number to a new one mid-call.
    /// </summary>
    static unsafe int Transfer(Socket socket, ref byte buffer, int length, bool receive, out SocketError error)
    {
        var handle = socket.SafeHandle;
        bool held = false;
        try
        {
            handle.DangerousAddRef(ref held);
            int fd = (int)handle.DangerousGetHandle();
            fixed (byte* bytes = &buffer)
            {
                while (true)
                {
                    nint n = receive ? recv(fd, bytes, length, MsgDontWait) : send(fd, bytes, length, MsgDontWait | MsgNoSignal);
                    if (n >= 0)
                    {
                        error = SocketError.Success;
                        return (int)n;
                    }
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == ErrorInterrupted) continue;
                    error = errno == ErrorAgain ? SocketError.WouldBlock : SocketError.SocketError;
                    return 0;
                }
            }
        }
        catch (ObjectDisposedException)
        {
            error = SocketError.Shutdown;
            return 0;
        }
        finally
        {
            if (held) handle.DangerousRelease();
        }
    }

    void TryRemoveFromEpoll(Registration registration)
    {
        var ev = default(EpollEvent);
        try
        {
            _ = epoll_ctl(_epoll, EpollCtlDel, (int)registration.Socket.SafeHandle.DangerousGetHandle(), ref ev);
        }
        catch (ObjectDisposedException)
        {
            // Closed: out of epoll already.
        }
    }

    public void Dispose()
    {
        _stopping = true;
        Wake();
        if (Thread.CurrentThread != _thread) _thread.Join();
    }
}
