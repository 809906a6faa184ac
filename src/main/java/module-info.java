module dev.panaio {
    exports dev.panaio;
}
