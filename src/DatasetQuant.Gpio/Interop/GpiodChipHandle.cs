using System.Runtime.InteropServices;

namespace DatasetQuant.Gpio.Interop;

/// <summary>Owns a <c>struct gpiod_chip *</c>; closing it releases every line requested from it.</summary>
internal sealed class GpiodChipHandle : SafeHandle
{
    public GpiodChipHandle()
        : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    public static GpiodChipHandle FromRaw(nint raw)
    {
        var chip = new GpiodChipHandle();
        chip.SetHandle(raw);
        return chip;
    }

    protected override bool ReleaseHandle()
    {
        Libgpiod.gpiod_chip_close(handle);
        return true;
    }
}
