import pickle
import threading

import pytest

import lupi


def test_hierarchy_and_fields():
    with pytest.raises(lupi.Error) as e:
        lupi.Model("classification", 2, [3], 2).options["epochs"] = -5
    err = e.value
    assert type(err) is lupi.ERANGE
    assert err.code == lupi.ERANGE.code and err.errname == "LUPI_ERANGE"
    assert "EPOCHS" in err.message and str(err) == err.message
    assert err.strerror and err.strerror != err.message
    assert isinstance(err, ValueError)
    assert issubclass(lupi.ENOMEM, MemoryError)
    assert issubclass(lupi.EIO, OSError)
    assert issubclass(lupi.ESTATE, RuntimeError)
    assert issubclass(lupi.ENOTSUP, NotImplementedError)
    assert not issubclass(lupi.ECANCELLED, ValueError)
    assert len(lupi.ERROR_CLASSES) == len({c.code for c in
                                           lupi.ERROR_CLASSES.values()})


def test_error_pickles():
    e = lupi.EIO("x.csv: no such file")
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is lupi.EIO and e2.message == e.message
    assert e2.code == lupi.EIO.code


def test_message_is_per_thread():
    # lupi_errmsg() is thread-local: a failure in another thread does not
    # replace the message this thread's exception carries.
    msgs = {}

    def fail(name, value):
        try:
            lupi.Model("classification", 2, [3], 2).options[name] = value
        except lupi.Error as e:
            msgs[name] = e.message

    th = threading.Thread(target=fail, args=("lr", -1.0))
    fail("epochs", 0)
    th.start()
    th.join()
    assert "EPOCHS" in msgs["epochs"] and "LR" in msgs["lr"]
    # The exceptions copied their messages when raised, so the lines above
    # would pass with a process-wide message too: read this thread's C
    # message again, after the other thread's failure.
    from lupi._ffi import lib
    assert "EPOCHS" in lib.lupi_errmsg().decode()


def test_set_num_threads():
    n = lupi.get_num_threads()
    try:
        lupi.set_num_threads(1)
        assert lupi.get_num_threads() == 1
        with pytest.raises(lupi.ERANGE):
            lupi.set_num_threads(-1)
    finally:
        lupi.set_num_threads(n)
