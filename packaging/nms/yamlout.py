"""A minimal YAML writer for the generated NMS files (block style, every
string single-quoted), so generating them needs nothing beyond Python's
standard library."""


def _scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def _lines(v, indent):
    pad = " " * indent
    if isinstance(v, dict):
        for k, item in v.items():
            if isinstance(item, (dict, list)) and item:
                yield f"{pad}{k}:"
                yield from _lines(item, indent + 2)
            else:
                yield f"{pad}{k}: {_scalar(item) if item != [] and item != {} else ('[]' if item == [] else '{}')}"
    elif isinstance(v, list):
        for item in v:
            sub = list(_lines(item, indent + 2)) if isinstance(item, (dict, list)) else None
            if sub is None:
                yield f"{pad}- {_scalar(item)}"
            else:
                yield f"{pad}- {sub[0].lstrip()}"
                yield from sub[1:]
    else:
        yield pad + _scalar(v)


def dump(data, header=""):
    return header + "\n".join(_lines(data, 0)) + "\n"
