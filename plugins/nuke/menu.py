# sora_vfx for Nuke: the "Sora VFX" menu (Nuke loads menu.py only with a GUI).
#
# A broken plugin must never stop Nuke from starting: any error is printed and skipped.
try:
    import sora_vfx_nuke.menu

    sora_vfx_nuke.menu.install()
except Exception as _sora_vfx_error:  # noqa: BLE001
    print(f"sora_vfx: the Sora VFX menu was not loaded: {type(_sora_vfx_error).__name__}: {_sora_vfx_error}")
