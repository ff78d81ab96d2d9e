namespace DatasetQuant.Gpio;

/// <summary>The GPIO chip or a line could not be used; the message names the chip or line and the reason.</summary>
public sealed class GpioException : IOException
{
    public GpioException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
