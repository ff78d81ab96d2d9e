using System.Runtime.InteropServices;

namespace DatasetQuant.Gpio;

/// <summary>A GPIO operation failed; the message names the chip or line and the system error.</summary>
public sealed class GpioException : IOException
{
    public GpioException(string message, int errno = 0)
        : base(errno == 0 ? message : $"{message}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})")
    {
        Errno = errno;
    }

    /// <summary>The C errno behind the failure, or 0.</summary>
    public int Errno { get; }
}
