namespace DatasetQuant.Gpio;

/// <summary>What the device is doing, as the status LED and systemd's STATUS= line show it.</summary>
public enum DeviceStatus
{
    Idle,
    Syncing,
    Training,
    Error,
}

/// <summary>
/// The device's current status, set by whoever is working (sync, trainer) and read by the LED, systemd notify and
/// the state report. Thread-safe; <see cref="Changed"/> is raised on the setter's thread.
/// </summary>
public sealed class DeviceStatusBoard
{
    private readonly Lock _gate = new();
    private DeviceStatus _status = DeviceStatus.Idle;
    private string _detail = "starting";

    public event EventHandler<DeviceStatus>? Changed;

    public DeviceStatus Status
    {
        get
        {
            lock (_gate)
            {
                return _status;
            }
        }
    }

    /// <summary>A short human line for the status (for example "training: epoch 2/5").</summary>
    public string Detail
    {
        get
        {
            lock (_gate)
            {
                return _detail;
            }
        }
    }

    public void Set(DeviceStatus status, string detail)
    {
        bool changed;
        lock (_gate)
        {
            changed = _status != status || _detail != detail;
            _status = status;
            _detail = detail;
        }

        if (changed)
        {
            Changed?.Invoke(this, status);
        }
    }
}
