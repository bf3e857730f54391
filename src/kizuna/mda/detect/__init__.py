"""Pure detectors over cleaned AIS fixes: no I/O, no clocks but the data's."""
