# cmake -DINPUT=a.lua -DOUTPUT=a.cpp -DSYMBOL=name -DNAMESPACE=ns -P embed_text.cmake
# Writes a .cpp defining `extern const char* const SYMBOL` holding the file.
file(READ ${INPUT} content)
file(WRITE ${OUTPUT} "// Generated from ${INPUT}; edit that file instead.\nnamespace ${NAMESPACE} {\nextern const char* const ${SYMBOL};\nconst char* const ${SYMBOL} = R\"__embed__(${content})__embed__\";\n}\n")
