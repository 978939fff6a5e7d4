"""Torch device selection: turn a ``device`` parameter into a torch.device."""

import torch

__all__ = ["resolve_device"]


def resolve_device(device, param_name="device"):
    """Turn a ``device`` parameter into a :class:`torch.device`.

    Parameters
    ----------
    device : str or torch.device
        ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"auto"`` (CUDA when available,
        else CPU) or a :class:`torch.device`.
    param_name : str, default="device"
        Name used in error messages.

    Returns
    -------
    device : torch.device

    Raises
    ------
    ValueError
        If the string is not a device, or names a CUDA device that this
        machine does not have.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"The {param_name!r} parameter must be 'cpu', 'cuda', 'cuda:N', 'auto' "
            f"or a torch.device; got {device!r}."
        ) from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"The {param_name!r} parameter asks for {str(dev)!r}, but no CUDA "
                "device is available on this machine (torch.cuda.is_available() "
                f"is False). Use {param_name}='cpu', or {param_name}='auto' to fall "
                "back to the CPU automatically."
            )
        index = dev.index if dev.index is not None else 0
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"The {param_name!r} parameter asks for {str(dev)!r}, but this "
                f"machine has {torch.cuda.device_count()} CUDA device(s) "
                f"(cuda:0 .. cuda:{torch.cuda.device_count() - 1})."
            )
    elif dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(
                f"The {param_name!r} parameter asks for 'mps', but no MPS device "
                "is available on this machine (torch.backends.mps.is_available() "
                f"is False). Use {param_name}='cpu' or {param_name}='auto'."
            )
    elif dev.type != "cpu":
        raise ValueError(
            f"The {param_name!r} parameter must be 'cpu', 'cuda', 'cuda:N' or "
            f"'auto'; got {device!r}."
        )
    return dev
