import pytest
import torch

from mlbook.exercises import ExerciseError, check_close, check_equal, check_truth_table

AND = {(0, 0): 0, (0, 1): 0, (1, 0): 0, (1, 1): 1}


def test_right_answers_print_seikai(capsys):
    assert check_close(torch.tensor([1.0, 2.0]), [1.0, 2.0 + 1e-9], "ベクトル")
    assert check_equal(3, 3, "個数")
    assert check_truth_table(lambda x: x[0] and x[1], AND, "AND")
    assert capsys.readouterr().out.count("正解です") == 3


def test_wrong_answers_say_what_was_expected():
    with pytest.raises(ExerciseError, match="期待される値 2.0、あなたの答え 2.5"):
        check_close([1.0, 2.5], [1.0, 2.0], "ベクトル")
    with pytest.raises(ExerciseError, match="形が違います"):
        check_close([1.0], [1.0, 2.0], "ベクトル")
    with pytest.raises(ExerciseError, match="期待される答え 3、あなたの答え 4"):
        check_equal(4, 3, "個数")
    with pytest.raises(ExerciseError, match=r"1 行が違います.*\(1, 1\)"):
        check_truth_table(lambda x: 0, AND, "AND")
    with pytest.raises(ExerciseError, match="数値"):
        check_close("abc", 1.0, "値")
    # a wrong reference solution fails the notebook's test
    assert issubclass(ExerciseError, AssertionError)


def test_bad_check_arguments():
    with pytest.raises(ValueError, match="rtol"):
        check_close(1.0, 1.0, "x", rtol=-1)
    with pytest.raises(ValueError, match="table"):
        check_truth_table(lambda x: 0, {}, "空")
